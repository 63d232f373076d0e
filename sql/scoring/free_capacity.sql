-- Free capacity of every eligible mentor (active, fewer active pairings than capacity).
SELECT m.id, m.capacity - count(i.id) AS free
FROM mentors m
LEFT JOIN interactions i ON i.mentor_id = m.id AND i.status = 'active'
WHERE m.active
GROUP BY m.id, m.capacity
HAVING m.capacity > count(i.id);

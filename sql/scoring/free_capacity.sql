-- Free seats of every eligible mentor now: active, not paused by an override, with fewer
-- active pairings than their capacity (lowered by a capacity override in force).
SELECT m.id, least(m.capacity, coalesce(held.capacity, m.capacity)) - count(i.id) AS free
FROM mentors m
LEFT JOIN mentor_limits(now()) held ON held.mentor_id = m.id
LEFT JOIN interactions i ON i.mentor_id = m.id AND i.status = 'active'
WHERE m.active AND NOT coalesce(held.paused, false)
GROUP BY m.id, m.capacity, held.capacity
HAVING least(m.capacity, coalesce(held.capacity, m.capacity)) > count(i.id);

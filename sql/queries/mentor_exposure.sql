-- How often each mentor is recommended in the current batch against their free capacity,
-- most exposed first.
SELECT m.external_id AS mentor_id, count(r.mentee_id) AS lists,
       m.capacity - (SELECT count(*) FROM interactions i
                     WHERE i.mentor_id = m.id AND i.status = 'active') AS free_capacity
FROM mentors m
LEFT JOIN current_recommendations r ON r.mentor_id = m.external_id
WHERE m.active
GROUP BY m.id, m.external_id, m.capacity
ORDER BY lists DESC, m.external_id;

-- Active mentees with fewer than :k current recommendations (none at all included).
SELECT e.external_id AS mentee_id, count(r.mentor_id) AS recommendations
FROM mentees e
LEFT JOIN current_recommendations r ON r.mentee_id = e.external_id
WHERE e.active
GROUP BY e.external_id
HAVING count(r.mentor_id) < :k
ORDER BY recommendations, e.external_id;

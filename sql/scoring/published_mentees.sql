-- Mentees listed by the published batch (each has exactly one rank-1 row), and its id.
SELECT count(r.mentee_id), max(p.batch_id)
FROM published_batch p
LEFT JOIN recommendations r ON r.batch_id = p.batch_id AND r.rank = 1;

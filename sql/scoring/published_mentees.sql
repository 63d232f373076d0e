-- Mentees listed by the published batch (each has exactly one rank-1 row), and its id. The
-- id comes from an InitPlan, so PostgreSQL reads that batch's partition alone (a join with
-- published_batch read every kept batch's rows: 0.6-0.9 s at large with two kept).
SELECT count(*), (SELECT batch_id FROM published_batch)
FROM recommendations
WHERE batch_id = (SELECT batch_id FROM published_batch) AND rank = 1;

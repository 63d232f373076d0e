-- The published batch's lists (internal ids) for the market simulator (the batch id from an
-- InitPlan: only its partition is read, not every kept batch's).
SELECT r.mentee_id, r.mentor_id, r.rank
FROM recommendations r
WHERE r.batch_id = (SELECT batch_id FROM published_batch);

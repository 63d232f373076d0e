-- The published batch's recommendations (internal ids), in mentee and rank order (the batch
-- id from an InitPlan: only its partition is read, not every kept batch's).
SELECT b.id AS batch_id, b.published_at, r.mentee_id, r.mentor_id, r.rank, r.propensity,
       r.p_success
FROM recommendations r
JOIN recommendation_batches b ON b.id = r.batch_id
WHERE r.batch_id = (SELECT batch_id FROM published_batch)
ORDER BY r.mentee_id, r.rank;

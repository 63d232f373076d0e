-- The published batch's recommendations (internal ids), in mentee and rank order.
SELECT b.id AS batch_id, b.published_at, r.mentee_id, r.mentor_id, r.rank, r.propensity,
       r.p_success
FROM published_batch p
JOIN recommendation_batches b ON b.id = p.batch_id
JOIN recommendations r ON r.batch_id = b.id
ORDER BY r.mentee_id, r.rank;

-- The published batch's lists (internal ids) for the market simulator.
SELECT r.mentee_id, r.mentor_id, r.rank
FROM published_batch p
JOIN recommendations r ON r.batch_id = p.batch_id;

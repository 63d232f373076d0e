-- Training pairs from interactions: one per request, labelled at its request time.
-- accepted: the mentor did not decline; success: completed (vs abandoned; else NULL).
INSERT INTO feature_pairs (mentee_id, as_of, mentor_ids, pair_ids)
SELECT mentee_id, requested_at, array_agg(mentor_id ORDER BY id), array_agg(id ORDER BY id)
FROM interactions
GROUP BY mentee_id, requested_at;

-- Training pairs from interactions: one per request, labelled at its request time.
-- accepted: the mentor did not decline; success: completed (vs abandoned; else NULL).
INSERT INTO feature_pairs (pair_id, mentee_id, mentor_id, as_of)
SELECT id, mentee_id, mentor_id, requested_at FROM interactions;

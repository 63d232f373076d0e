-- Training pairs from feedback: one per shown recommendation, labelled at its shown time.
INSERT INTO feature_pairs (pair_id, mentee_id, mentor_id, as_of)
SELECT id, mentee_id, mentor_id, shown_at FROM recommendation_feedback;

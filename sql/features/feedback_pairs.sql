-- Training pairs from feedback: one per shown recommendation, labelled at its shown time.
INSERT INTO feature_pairs (mentee_id, as_of, mentor_ids, pair_ids)
SELECT mentee_id, shown_at, array_agg(mentor_id ORDER BY id), array_agg(id ORDER BY id)
FROM recommendation_feedback
GROUP BY mentee_id, shown_at;

-- The (mentor, as_of) and (mentee, as_of) keys of the pairs in feature_pairs: whose history
-- to compute.
INSERT INTO feature_mentors (mentor_id, as_of)
SELECT DISTINCT mentor_id, as_of FROM feature_pairs, unnest(mentor_ids) AS mentor_id;
INSERT INTO feature_mentees (mentee_id, as_of)
SELECT mentee_id, as_of FROM feature_pairs;

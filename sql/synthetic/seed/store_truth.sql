-- Hidden traits and coefficients of the seeded world, keyed by internal ids.
INSERT INTO synthetic_truth.world (seed, as_of, coefficients)
VALUES (:seed, :as_of, CAST(:coefficients AS jsonb));
INSERT INTO synthetic_truth.mentor_traits (mentor_id, quality, popularity)
SELECT m.id, s.quality, s.popularity FROM stage_mentor_traits s
JOIN mentors m ON m.external_id = s.mentor_id;
INSERT INTO synthetic_truth.mentee_traits (mentee_id, motivation)
SELECT m.id, s.motivation FROM stage_mentee_traits s
JOIN mentees m ON m.external_id = s.mentee_id;

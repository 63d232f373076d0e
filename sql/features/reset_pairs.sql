-- Clear the pairs and the mentee side of the previous chunk, keeping the mentor side (and the
-- programme-wide rates) of the same as_of for the next chunk.
DROP TABLE IF EXISTS mentee_history, mentee_people, mentee_side;
TRUNCATE feature_pairs, feature_mentees;

-- Clear everything of the previous build in this session: pairs, the (person, as_of) keys
-- and all point-in-time history.
DROP TABLE IF EXISTS global_outcomes, global_actions, global_rate, mentor_history,
    mentor_answers, mentee_history, mentee_people, mentor_side, mentee_side;
TRUNCATE feature_pairs, feature_mentors, feature_mentees;

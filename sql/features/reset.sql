-- Clear the pairs and point-in-time history of the previous build in this session.
DROP TABLE IF EXISTS global_outcomes, global_actions, global_rate, mentor_history,
    mentor_answers, mentee_history, mentor_side, mentee_side;
TRUNCATE feature_pairs;

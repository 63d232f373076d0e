-- The features of the mentor side alone, then what the pairwise features need of the mentor
-- (MENTOR_PAIR_INPUTS: skills, standard UTC offset in minutes, experience in years), one row
-- per mentor_side row in key order (column names and order: matcher.features.MENTOR_FEATURES,
-- then MENTOR_PAIR_INPUTS).
SELECT key, mentor_id,
       mentor_requests, mentor_acceptance_rate, mentor_completed, mentor_abandoned,
       mentor_success_smoothed, mentor_mean_rating, mentor_load_ratio,
       mentor_recommendation_acceptance,
       skill_count, zone_minutes, experience_years
FROM mentor_side
ORDER BY key

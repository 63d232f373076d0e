-- The features of the mentor side alone, one row per mentor_side row in key order (column
-- names and order: matcher.features.MENTOR_FEATURES).
SELECT key, mentor_id,
       mentor_requests, mentor_acceptance_rate, mentor_completed, mentor_abandoned,
       mentor_success_smoothed, mentor_mean_rating, mentor_load_ratio,
       mentor_recommendation_acceptance
FROM mentor_side
ORDER BY key

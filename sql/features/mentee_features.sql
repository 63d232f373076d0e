-- The features of the mentee side alone, one row per mentee_side row in key order (column
-- names and order: matcher.features.MENTEE_FEATURES).
SELECT key, mentee_id, mentee_requests, mentee_declines
FROM mentee_side
ORDER BY key

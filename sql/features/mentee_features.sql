-- The features of the mentee side alone, then what the pairwise features need of the mentee
-- (MENTEE_PAIR_INPUTS: domains and skills to divide by, at least 1; skills; standard UTC
-- offset in minutes; level in years), one row per mentee_side row in key order (column names
-- and order: matcher.features.MENTEE_FEATURES, then MENTEE_PAIR_INPUTS).
SELECT key, mentee_id, mentee_requests, mentee_declines,
       n_domains, n_skills, skill_count, zone_minutes, seniority
FROM mentee_side
ORDER BY key

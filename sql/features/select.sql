-- One row of features per pair in feature_pairs (in no particular order). Column names and order
-- are matcher.features.FEATURES; docs/features.md gives each formula.
SELECT p.pair_id, p.mentee_id, p.mentor_id,
       bit_count(eb.domains & mb.domains) AS domain_overlap_count,
       coalesce(bit_count(eb.domains & mb.domains)::float8
                / nullif(bit_count(eb.domains), 0), 0) AS domain_overlap_share,
       coalesce(bit_count(eb.skills & mb.skills)::float8
                / nullif(bit_count(eb.skills), 0), 0) AS skill_coverage,
       coalesce(bit_count(eb.skills & mb.skills)::float8
                / nullif(bit_count(eb.skills | mb.skills), 0), 0) AS skill_jaccard,
       coalesce((e.industry = m.industry)::int, 0) AS industry_match,
       bit_count(e.availability_utc & m.availability_utc) / 4.0::float8 AS shared_hours,
       least(abs(ez.minutes - mz.minutes), 1440 - abs(ez.minutes - mz.minutes)) / 60.0::float8
           AS timezone_diff_hours,
       (e.languages && m.languages)::int AS shared_language,
       coalesce((e.preferred_style = m.style)::int, 0) AS style_match,
       (e.preferred_style IS NOT NULL)::int AS style_stated,
       m.experience_years - CASE e.experience_level WHEN 'student' THEN 0 WHEN 'junior' THEN 2
                                 WHEN 'mid' THEN 5 WHEN 'senior' THEN 9 END AS seniority_gap,
       mh.requests AS mentor_requests,
       mh.accepted::float8 / nullif(mh.accepted + mh.declined, 0) AS mentor_acceptance_rate,
       mh.completed AS mentor_completed,
       mh.abandoned AS mentor_abandoned,
       (mh.completed + 5 * g.rate) / (mh.completed + mh.abandoned + 5)
           AS mentor_success_smoothed,
       mh.mean_rating::float8 AS mentor_mean_rating,
       mh.load::float8 / nullif(m.capacity, 0) AS mentor_load_ratio,
       (ma.accepted + 5 * g.accept_rate) / (ma.accepted + ma.declined + 5)
           AS mentor_recommendation_acceptance,
       eh.requests AS mentee_requests,
       eh.declines AS mentee_declines
FROM feature_pairs p
JOIN mentees e ON e.id = p.mentee_id
JOIN mentors m ON m.id = p.mentor_id
JOIN mentee_bits eb ON eb.id = p.mentee_id
JOIN mentor_bits mb ON mb.id = p.mentor_id
JOIN zone_offsets ez ON ez.name = e.timezone
JOIN zone_offsets mz ON mz.name = m.timezone
JOIN mentor_history mh ON mh.mentor_id = p.mentor_id AND mh.as_of = p.as_of
JOIN mentor_answers ma ON ma.mentor_id = p.mentor_id AND ma.as_of = p.as_of
JOIN mentee_history eh ON eh.mentee_id = p.mentee_id AND eh.as_of = p.as_of
JOIN global_rate g ON g.as_of = p.as_of


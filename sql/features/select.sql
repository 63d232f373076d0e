-- The pairwise features of each pair in feature_pairs (in no particular order), with the
-- keys of its mentee_side and mentor_side rows; the features of one side alone are read once
-- per side row (mentor_features.sql, mentee_features.sql), not once per pair. Column names
-- and order are matcher.features.PAIR_FEATURES; docs/features.md gives each formula.
SELECT p.pair_id, e.key AS mentee_key, m.key AS mentor_key,
       bit_count(e.domains & m.domains) AS domain_overlap_count,
       bit_count(e.domains & m.domains) / e.n_domains AS domain_overlap_share,
       bit_count(e.skills & m.skills) / e.n_skills AS skill_coverage,
       coalesce(bit_count(e.skills & m.skills)::float8
                / nullif(bit_count(e.skills | m.skills), 0), 0) AS skill_jaccard,
       coalesce((e.industry = m.industry)::int, 0) AS industry_match,
       bit_count(e.availability_utc & m.availability_utc) / 4.0::float8 AS shared_hours,
       least(abs(e.zone_minutes - m.zone_minutes),
             1440 - abs(e.zone_minutes - m.zone_minutes)) / 60.0::float8 AS timezone_diff_hours,
       (e.languages && m.languages)::int AS shared_language,
       coalesce((e.preferred_style = m.style)::int, 0) AS style_match,
       (e.preferred_style IS NOT NULL)::int AS style_stated,
       m.experience_years - e.seniority AS seniority_gap
FROM feature_pairs p
JOIN mentee_side e ON e.mentee_id = p.mentee_id AND e.as_of = p.as_of
JOIN mentor_side m ON m.mentor_id = p.mentor_id AND m.as_of = p.as_of

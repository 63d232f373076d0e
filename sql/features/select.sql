-- The pairwise features of each pair in feature_pairs (in no particular order), with the
-- keys of its mentee_side and mentor_side rows; the features of one side alone are read once
-- per side row (mentor_features.sql, mentee_features.sql), not once per pair. Column names
-- are matcher.features.PAIR_FEATURES; docs/features.md gives each formula.
--
-- Every value sent costs PostgreSQL a send call and the reader a field, per pair, whatever
-- it holds: the pair's two keys go as one bigint (pair_key: mentee key << 32 | mentor key)
-- and its four yes/no features as the bits of one integer (flags, FLAG_FEATURES in
-- matcher/features.py, bit 0 first). The inner query computes each bitmap intersection once
-- (OFFSET 0 keeps the planner from copying its expressions into the outer one), and the
-- skills' union is counted from the intersection and each side's count.
SELECT pair_id, pair_key, flags,
       domains_shared AS domain_overlap_count,
       domains_shared / n_domains AS domain_overlap_share,
       skills_shared / n_skills AS skill_coverage,
       coalesce(skills_shared / nullif(skill_counts - skills_shared, 0), 0) AS skill_jaccard,
       shared_hours, timezone_diff_hours, seniority_gap
FROM (
    SELECT p.pair_id, (e.key << 32) | m.key AS pair_key,
           -- (| and << bind alike in PostgreSQL, left to right: each shift in parentheses)
           coalesce((e.industry = m.industry)::int, 0)                -- industry_match
           | ((e.languages && m.languages)::int << 1)                 -- shared_language
           | (coalesce((e.preferred_style = m.style)::int, 0) << 2)   -- style_match
           | ((e.preferred_style IS NOT NULL)::int << 3)              -- style_stated
               AS flags,
           bit_count(e.domains & m.domains)::float8 AS domains_shared, e.n_domains,
           bit_count(e.skills & m.skills)::float8 AS skills_shared, e.n_skills,
           e.skill_count + m.skill_count AS skill_counts,  -- the union: this - intersection
           bit_count(e.availability_utc & m.availability_utc) / 4.0::float8 AS shared_hours,
           least(abs(e.zone_minutes - m.zone_minutes),
                 1440 - abs(e.zone_minutes - m.zone_minutes)) / 60.0::float8
               AS timezone_diff_hours,
           m.experience_years - e.seniority AS seniority_gap
    FROM feature_pairs p
    JOIN mentee_side e ON e.mentee_id = p.mentee_id AND e.as_of = p.as_of
    JOIN mentor_side m ON m.mentor_id = p.mentor_id AND m.as_of = p.as_of
    OFFSET 0
) pairs

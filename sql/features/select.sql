-- What each pair of feature_pairs (in no particular order) has in common, with the keys of
-- its mentee_side and mentor_side rows: the part of the pairwise features that needs both
-- people's sets. matcher/features.py turns it into PAIR_FEATURES with the numbers each side
-- sends once per side row (mentor_features.sql, mentee_features.sql: counts, time zone
-- offset, experience); docs/features.md gives each formula.
--
-- Every value sent costs PostgreSQL a send call and the reader a field, per pair, whatever
-- it holds, so a pair is two bigints: pair_key (mentee key << 32 | mentor key) and overlaps,
-- OVERLAP_FIELDS in matcher/features.py from bit 0 on: the four yes/no features (one bit
-- each, FLAG_FEATURES), then the shared domains, shared skills (20 bits each) and shared
-- quarter-hours of the week (10 bits: at most 672).
SELECT k.pair_id, (e.key << 32) | m.key AS pair_key,
       -- (| and << bind alike in PostgreSQL, left to right: each shift in parentheses)
       coalesce((e.industry = m.industry)::int, 0)                -- industry_match
       | ((e.languages && m.languages)::int << 1)                 -- shared_language
       | (coalesce((e.preferred_style = m.style)::int, 0) << 2)   -- style_match
       | ((e.preferred_style IS NOT NULL)::int << 3)              -- style_stated
       | (bit_count(e.domains & m.domains) << 4)
       | (bit_count(e.skills & m.skills) << 24)
       | (bit_count(e.availability_utc & m.availability_utc) << 44) AS overlaps
FROM feature_pairs p
JOIN mentee_side e ON e.mentee_id = p.mentee_id AND e.as_of = p.as_of
CROSS JOIN LATERAL unnest(p.mentor_ids, p.pair_ids) AS k (mentor_id, pair_id)
JOIN mentor_side m ON m.mentor_id = k.mentor_id AND m.as_of = p.as_of

-- Point-in-time history, part 3 of 3: each (mentee, as_of) of feature_mentees and what
-- select.sql needs of the mentee side (history_global.sql explains the rules); ``key``
-- numbers the rows 0, 1, ... as in mentor_side.
CREATE TEMP TABLE mentee_history ON COMMIT DROP AS
SELECT k.mentee_id, k.as_of, h.requests, h.declines
FROM feature_mentees k
-- (per key, by the mentee's index: a chunk's 2,000 mentees, not a hash of every interaction)
CROSS JOIN LATERAL (
    SELECT count(*) AS requests,
           count(*) FILTER (WHERE i.status = 'declined'
                            AND coalesce(i.ended_at, i.requested_at) < k.as_of) AS declines
    FROM interactions i
    WHERE i.mentee_id = k.mentee_id AND i.requested_at < k.as_of) h;
ALTER TABLE mentee_history ADD PRIMARY KEY (mentee_id, as_of);

-- The build's mentees, read once (by id): what the features need of them, their domains and
-- skills as bitmaps over the mentors' vocabulary (bitmaps.sql), and how many distinct terms
-- of each kind they list.
CREATE TEMP TABLE mentee_people ON COMMIT DROP AS
SELECT e.id, e.industry, e.languages, e.preferred_style, e.availability_utc, e.timezone,
       e.experience_level,
       coalesce((SELECT bit_or(set_bit(zd.zero, v.pos, 1)) FROM unnest(e.domains) t (term)
                 JOIN term_vocab v ON v.kind = 'domain' AND v.term = t.term), zd.zero)
           AS domains,
       coalesce((SELECT bit_or(set_bit(zs.zero, v.pos, 1)) FROM unnest(e.skills) t (term)
                 JOIN term_vocab v ON v.kind = 'skill' AND v.term = t.term), zs.zero)
           AS skills,
       (SELECT count(DISTINCT t) FROM unnest(e.domains) t) AS domain_count,
       (SELECT count(DISTINCT t) FROM unnest(e.skills) t) AS skill_count
FROM mentees e
JOIN empty_bits zd ON zd.kind = 'domain'
JOIN empty_bits zs ON zs.kind = 'skill'
WHERE e.id IN (SELECT mentee_id FROM feature_mentees);
ALTER TABLE mentee_people ADD PRIMARY KEY (id);

CREATE TEMP TABLE mentee_side ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY eh.mentee_id, eh.as_of) - 1)::int8 AS key,
       eh.mentee_id, eh.as_of, e.industry, e.languages, e.preferred_style,
       e.availability_utc, e.domains, e.skills, z.minutes AS zone_minutes,
       greatest(e.domain_count, 1)::float8 AS n_domains,
       greatest(e.skill_count, 1)::float8 AS n_skills,
       e.skill_count::float8 AS skill_count,
       CASE e.experience_level WHEN 'student' THEN 0 WHEN 'junior' THEN 2
                               WHEN 'mid' THEN 5 WHEN 'senior' THEN 9 END AS seniority,
       eh.requests AS mentee_requests,
       eh.declines AS mentee_declines
FROM mentee_history eh
JOIN mentee_people e ON e.id = eh.mentee_id
JOIN zone_offsets z ON z.name = e.timezone;
ALTER TABLE mentee_side ADD PRIMARY KEY (mentee_id, as_of);
ANALYZE feature_pairs, mentee_side;

-- Point-in-time history, part 2 of 3: each (mentor, as_of) of feature_mentors, once, and
-- everything select.sql needs of the mentor side (history_global.sql explains the rules).
CREATE TEMP TABLE mentor_history ON COMMIT DROP AS
SELECT k.mentor_id, k.as_of,
       count(i.id) AS requests,
       count(i.id) FILTER (WHERE i.status <> 'declined') AS accepted,
       count(i.id) FILTER (WHERE i.status = 'declined'
                           AND coalesce(i.ended_at, i.requested_at) < k.as_of) AS declined,
       count(i.id) FILTER (WHERE i.status = 'completed' AND i.ended_at < k.as_of) AS completed,
       count(i.id) FILTER (WHERE i.status = 'abandoned' AND i.ended_at < k.as_of) AS abandoned,
       avg(i.rating) FILTER (WHERE i.ended_at < k.as_of) AS mean_rating,
       count(i.id) FILTER (WHERE i.status <> 'declined'
                           AND (i.ended_at IS NULL OR i.ended_at >= k.as_of)) AS load
FROM feature_mentors k
LEFT JOIN interactions i ON i.mentor_id = k.mentor_id AND i.requested_at < k.as_of
GROUP BY k.mentor_id, k.as_of;
ALTER TABLE mentor_history ADD PRIMARY KEY (mentor_id, as_of);

-- How mentees answered this mentor when recommended, before as_of.
CREATE TEMP TABLE mentor_answers ON COMMIT DROP AS
SELECT k.mentor_id, k.as_of,
       count(f.id) FILTER (WHERE f.action = 'accepted') AS accepted,
       count(f.id) FILTER (WHERE f.action = 'declined') AS declined
FROM feature_mentors k
LEFT JOIN recommendation_feedback f
       ON f.mentor_id = k.mentor_id AND f.acted_at < k.as_of
      AND f.action IN ('accepted', 'declined')
GROUP BY k.mentor_id, k.as_of;
ALTER TABLE mentor_answers ADD PRIMARY KEY (mentor_id, as_of);

-- Everything select.sql needs of one side of a pair, joined once per (person, as_of) rather
-- than once per pair: the person's row, bitmaps, time zone offset and the features that
-- depend on that person alone (read once by side.sql, not once per pair); ``key`` numbers
-- the rows 0, 1, ... so that a pair names its side by position.
CREATE TEMP TABLE mentor_side ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY mh.mentor_id, mh.as_of) - 1)::int8 AS key,
       mh.mentor_id, mh.as_of, m.industry, m.languages, m.style, m.availability_utc,
       m.experience_years, mb.domains, mb.skills, bit_count(mb.skills)::float8 AS skill_count,
       z.minutes AS zone_minutes,
       mh.requests AS mentor_requests,
       mh.accepted::float8 / nullif(mh.accepted + mh.declined, 0) AS mentor_acceptance_rate,
       mh.completed AS mentor_completed,
       mh.abandoned AS mentor_abandoned,
       (mh.completed + :prior_weight * g.rate) / (mh.completed + mh.abandoned + :prior_weight)
           AS mentor_success_smoothed,
       mh.mean_rating::float8 AS mentor_mean_rating,
       mh.load::float8 / nullif(m.capacity, 0) AS mentor_load_ratio,
       (ma.accepted + :prior_weight * g.accept_rate)
           / (ma.accepted + ma.declined + :prior_weight)
           AS mentor_recommendation_acceptance
FROM mentor_history mh
JOIN mentor_answers ma ON ma.mentor_id = mh.mentor_id AND ma.as_of = mh.as_of
JOIN global_rate g ON g.as_of = mh.as_of
JOIN mentors m ON m.id = mh.mentor_id
JOIN mentor_bits mb ON mb.id = mh.mentor_id
JOIN zone_offsets z ON z.name = m.timezone;
ALTER TABLE mentor_side ADD PRIMARY KEY (mentor_id, as_of);
ANALYZE mentor_side;

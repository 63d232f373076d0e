-- Point-in-time history for the pairs in feature_pairs: only facts dated before each pair's
-- as_of time count. A request is known at requested_at; an acceptance is taken as known at
-- request time, a decline at its ended_at (or requested_at); an outcome, a rating and the end
-- of a pairing at ended_at. Computed once per distinct (person, as_of).
CREATE TEMP TABLE global_outcomes ON COMMIT DROP AS
SELECT ended_at,
       sum((status = 'completed')::int) OVER w AS completed,
       count(*) OVER w AS ended
FROM interactions
WHERE status IN ('completed', 'abandoned') AND ended_at IS NOT NULL
WINDOW w AS (ORDER BY ended_at, id ROWS UNBOUNDED PRECEDING);
CREATE INDEX ON global_outcomes (ended_at);

-- Recommendations acted on, in order of the action: known at acted_at.
CREATE TEMP TABLE global_actions ON COMMIT DROP AS
SELECT acted_at,
       sum((action = 'accepted')::int) OVER w AS accepted,
       count(*) OVER w AS acted
FROM recommendation_feedback
WHERE action IN ('accepted', 'declined') AND acted_at IS NOT NULL
WINDOW w AS (ORDER BY acted_at, id ROWS UNBOUNDED PRECEDING);
CREATE INDEX ON global_actions (acted_at);

-- Success rate of all pairings ended before as_of, and acceptance rate of all
-- recommendations acted on before as_of: the priors that mentor rates shrink to.
CREATE TEMP TABLE global_rate ON COMMIT DROP AS
SELECT k.as_of, coalesce(g.completed::float8 / g.ended, CAST(:rate_prior AS float8)) AS rate,
       coalesce(a.accepted::float8 / a.acted, CAST(:rate_prior AS float8)) AS accept_rate
FROM (SELECT DISTINCT as_of FROM feature_pairs) k
LEFT JOIN LATERAL (SELECT completed, ended FROM global_outcomes
                   WHERE ended_at < k.as_of ORDER BY ended_at DESC LIMIT 1) g ON true
LEFT JOIN LATERAL (SELECT accepted, acted FROM global_actions
                   WHERE acted_at < k.as_of ORDER BY acted_at DESC LIMIT 1) a ON true;
ALTER TABLE global_rate ADD PRIMARY KEY (as_of);

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
FROM (SELECT DISTINCT mentor_id, as_of FROM feature_pairs) k
LEFT JOIN interactions i ON i.mentor_id = k.mentor_id AND i.requested_at < k.as_of
GROUP BY k.mentor_id, k.as_of;
ALTER TABLE mentor_history ADD PRIMARY KEY (mentor_id, as_of);

-- How mentees answered this mentor when recommended, before as_of.
CREATE TEMP TABLE mentor_answers ON COMMIT DROP AS
SELECT k.mentor_id, k.as_of,
       count(f.id) FILTER (WHERE f.action = 'accepted') AS accepted,
       count(f.id) FILTER (WHERE f.action = 'declined') AS declined
FROM (SELECT DISTINCT mentor_id, as_of FROM feature_pairs) k
LEFT JOIN recommendation_feedback f
       ON f.mentor_id = k.mentor_id AND f.acted_at < k.as_of
      AND f.action IN ('accepted', 'declined')
GROUP BY k.mentor_id, k.as_of;
ALTER TABLE mentor_answers ADD PRIMARY KEY (mentor_id, as_of);

CREATE TEMP TABLE mentee_history ON COMMIT DROP AS
SELECT k.mentee_id, k.as_of,
       count(i.id) AS requests,
       count(i.id) FILTER (WHERE i.status = 'declined'
                           AND coalesce(i.ended_at, i.requested_at) < k.as_of) AS declines
FROM (SELECT DISTINCT mentee_id, as_of FROM feature_pairs) k
LEFT JOIN interactions i ON i.mentee_id = k.mentee_id AND i.requested_at < k.as_of
GROUP BY k.mentee_id, k.as_of;
ALTER TABLE mentee_history ADD PRIMARY KEY (mentee_id, as_of);

-- Everything select.sql needs of one side of a pair, joined once per (person, as_of) rather
-- than once per pair: the person's row, bitmaps, time zone offset and the features that
-- depend on that person alone.
CREATE TEMP TABLE mentor_side ON COMMIT DROP AS
SELECT mh.mentor_id, mh.as_of, m.industry, m.languages, m.style, m.availability_utc,
       m.experience_years, mb.domains, mb.skills, z.minutes AS zone_minutes,
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

CREATE TEMP TABLE mentee_side ON COMMIT DROP AS
SELECT eh.mentee_id, eh.as_of, e.industry, e.languages, e.preferred_style,
       e.availability_utc, eb.domains, eb.skills, z.minutes AS zone_minutes,
       greatest(bit_count(eb.domains), 1)::float8 AS n_domains,
       greatest(bit_count(eb.skills), 1)::float8 AS n_skills,
       CASE e.experience_level WHEN 'student' THEN 0 WHEN 'junior' THEN 2
                               WHEN 'mid' THEN 5 WHEN 'senior' THEN 9 END AS seniority,
       eh.requests AS mentee_requests,
       eh.declines AS mentee_declines
FROM mentee_history eh
JOIN mentees e ON e.id = eh.mentee_id
JOIN mentee_bits eb ON eb.id = eh.mentee_id
JOIN zone_offsets z ON z.name = e.timezone;
ALTER TABLE mentee_side ADD PRIMARY KEY (mentee_id, as_of);
ANALYZE feature_pairs, mentor_side, mentee_side;

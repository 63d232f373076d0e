-- Point-in-time history, part 1 of 3 (then history_mentors.sql, history_mentees.sql): the
-- programme-wide rates as of each time in feature_mentors. For all three: only facts dated
-- before each pair's as_of time count. A request is known at requested_at; an acceptance is
-- taken as known at request time, a decline at its ended_at (or requested_at); an outcome, a
-- rating and the end of a pairing at ended_at. Computed once per distinct (person, as_of).
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
FROM (SELECT DISTINCT as_of FROM feature_mentors) k
LEFT JOIN LATERAL (SELECT completed, ended FROM global_outcomes
                   WHERE ended_at < k.as_of ORDER BY ended_at DESC LIMIT 1) g ON true
LEFT JOIN LATERAL (SELECT accepted, acted FROM global_actions
                   WHERE acted_at < k.as_of ORDER BY acted_at DESC LIMIT 1) a ON true;
ALTER TABLE global_rate ADD PRIMARY KEY (as_of);


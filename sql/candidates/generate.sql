-- Candidates for scoring the given active mentees as of :as_of.
--
-- Eligible mentors are active and have free capacity (fewer active pairings than capacity);
-- mentors a mentee already requested (whatever became of it) are excluded. Each mentee keeps
-- its :max_candidates best eligible mentors by a cheap prefilter: the sum of five signals
-- that each run from 0 to 1, unweighted:
--   share of the mentee's domains the mentor covers, share of the mentee's wanted skills the
--   mentor has, a shared language, shared weekly hours (capped at 8, over 8), and the
--   mentor's success rate so far shrunk towards the global rate (as in features/history.sql).
-- Every mentor gets a prefilter value, so a mentee with no overlap at all still gets a full
-- list as long as enough mentors are eligible.
INSERT INTO feature_pairs (pair_id, mentee_id, mentor_id, as_of)
WITH global AS (
    SELECT coalesce(avg((status = 'completed')::int), 0.3) AS rate
    FROM interactions
    WHERE status IN ('completed', 'abandoned') AND ended_at < CAST(:as_of AS timestamptz)
),
eligible AS MATERIALIZED (
    SELECT m.id, m.availability_utc, m.languages, mb.domains, mb.skills,
           (h.completed + 5 * global.rate) / (h.completed + h.abandoned + 5) AS prior
    FROM mentors m
    JOIN mentor_bits mb ON mb.id = m.id
    CROSS JOIN global
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE i.status = 'active') AS active,
               count(*) FILTER (WHERE i.status = 'completed'
                                AND i.ended_at < CAST(:as_of AS timestamptz)) AS completed,
               count(*) FILTER (WHERE i.status = 'abandoned'
                                AND i.ended_at < CAST(:as_of AS timestamptz)) AS abandoned
        FROM interactions i WHERE i.mentor_id = m.id) h
    WHERE m.active AND m.capacity > h.active
),
chunk AS MATERIALIZED (
    SELECT e.id, e.availability_utc, e.languages, eb.domains, eb.skills,
           greatest(bit_count(eb.domains), 1)::float8 AS n_domains,
           greatest(bit_count(eb.skills), 1)::float8 AS n_skills,
           coalesce((SELECT array_agg(i.mentor_id) FROM interactions i
                     WHERE i.mentee_id = e.id), '{}') AS requested
    FROM mentees e
    JOIN mentee_bits eb ON eb.id = e.id
    WHERE e.active AND e.id = ANY(CAST(:mentee_ids AS bigint[]))
)
SELECT CAST(:first_pair_id AS bigint) + row_number() OVER (ORDER BY c.id, best.id),
       c.id, best.id, CAST(:as_of AS timestamptz)
FROM chunk c
CROSS JOIN LATERAL (
    SELECT g.id
    FROM eligible g
    WHERE g.id <> ALL (c.requested)
    ORDER BY bit_count(c.domains & g.domains) / c.n_domains
             + bit_count(c.skills & g.skills) / c.n_skills
             + (c.languages && g.languages)::int
             + least(bit_count(c.availability_utc & g.availability_utc), 32) / 32.0
             + g.prior DESC,
             g.id
    LIMIT :max_candidates
) best;

-- Candidates for scoring the given active mentees as of :as_of. Eligible mentors are active
-- and have free capacity (fewer active pairings than capacity); mentors a mentee already
-- requested (whatever became of it) are excluded. Each mentee keeps its best
-- :max_candidates mentors by a cheap prefilter (2 x shared domains + shared skills, then
-- shared weekly hours) that overlap at all, and at least :min_candidates mentors in any case,
-- so that nobody ends up with an empty list.
INSERT INTO feature_pairs (pair_id, mentee_id, mentor_id, as_of)
WITH eligible AS (
    SELECT m.id, m.availability_utc
    FROM mentors m
    WHERE m.active
      AND m.capacity > (SELECT count(*) FROM interactions i
                        WHERE i.mentor_id = m.id AND i.status = 'active')
),
chunk AS (
    SELECT e.id, e.availability_utc FROM mentees e
    WHERE e.active AND e.id = ANY(CAST(:mentee_ids AS bigint[]))
),
requested AS (
    SELECT DISTINCT mentee_id, mentor_id FROM interactions
    WHERE mentee_id = ANY(CAST(:mentee_ids AS bigint[]))
),
scored AS (
    SELECT c.id AS mentee_id, g.id AS mentor_id,
           2 * bit_count(eb.domains & mb.domains) + bit_count(eb.skills & mb.skills)
               AS prefilter,
           bit_count(c.availability_utc & g.availability_utc) AS shared_slots
    FROM chunk c
    JOIN mentee_bits eb ON eb.id = c.id
    CROSS JOIN eligible g
    JOIN mentor_bits mb ON mb.id = g.id
    LEFT JOIN requested r ON r.mentee_id = c.id AND r.mentor_id = g.id
    WHERE r.mentee_id IS NULL
),
ranked AS (
    SELECT mentee_id, mentor_id, prefilter,
           row_number() OVER (PARTITION BY mentee_id
                              ORDER BY prefilter DESC, shared_slots DESC, mentor_id) AS position
    FROM scored
)
SELECT CAST(:first_pair_id AS bigint) + row_number() OVER (ORDER BY mentee_id, mentor_id),
       mentee_id, mentor_id, CAST(:as_of AS timestamptz)
FROM ranked
WHERE (prefilter > 0 AND position <= :max_candidates) OR position <= :min_candidates;

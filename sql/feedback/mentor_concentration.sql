-- The mentor whose share of the feedback on batches shown since :since most exceeds their
-- share of those batches' recommendations (mentors with at least :min_rows feedback rows).
-- A broken client flooding one mentor shows as a feedback share far above the
-- recommendation share.
WITH answered AS (
    SELECT batch_id, mentor_id, count(*) AS rows
    FROM recommendation_feedback
    WHERE batch_id IS NOT NULL AND shown_at >= CAST(:since AS timestamptz)
    GROUP BY batch_id, mentor_id
),
feedback AS (SELECT mentor_id, sum(rows) AS rows FROM answered GROUP BY mentor_id),
recommended AS (
    SELECT r.mentor_id, count(*) AS rows
    FROM recommendations r
    WHERE r.batch_id IN (SELECT batch_id FROM answered)
    GROUP BY r.mentor_id
),
shares AS (
    SELECT f.mentor_id, f.rows,
           f.rows::float8 / (SELECT sum(rows) FROM feedback) AS feedback_share,
           coalesce(r.rows, 0)::float8 / nullif((SELECT sum(rows) FROM recommended), 0)
               AS recommendation_share
    FROM feedback f LEFT JOIN recommended r ON r.mentor_id = f.mentor_id
)
SELECT mo.external_id AS mentor_id, s.rows, s.feedback_share, s.recommendation_share
FROM shares s JOIN mentors mo ON mo.id = s.mentor_id
WHERE s.rows >= :min_rows
ORDER BY s.feedback_share / nullif(s.recommendation_share, 0) DESC NULLS FIRST, s.rows DESC
LIMIT 1;

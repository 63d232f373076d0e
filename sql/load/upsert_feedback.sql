-- Insert new feedback rows, update changed ones (by mentee, mentor, shown time). Each row is
-- tied to the recommendation it answers: the newest published batch, published no later than
-- the row was shown, that recommended this mentor to this mentee at this rank. Rows answering
-- no published recommendation (e.g. a past recommender's lists) get batch_id NULL.
WITH staged AS (
    SELECT me.id AS mentee_id, mo.id AS mentor_id, s.rank, s.shown_at, s.action, s.acted_at
    FROM stage_feedback s
    JOIN mentees me ON me.external_id = s.mentee_id
    JOIN mentors mo ON mo.external_id = s.mentor_id
), answered AS (
    SELECT DISTINCT ON (s.mentee_id, s.mentor_id, s.shown_at)
           s.mentee_id, s.mentor_id, s.shown_at, b.id AS batch_id
    FROM staged s
    JOIN recommendations r
      ON r.mentee_id = s.mentee_id AND r.mentor_id = s.mentor_id AND r.rank = s.rank
    JOIN recommendation_batches b ON b.id = r.batch_id
    WHERE b.published_at IS NOT NULL AND b.published_at <= s.shown_at
    ORDER BY s.mentee_id, s.mentor_id, s.shown_at, b.published_at DESC
), written AS (
    INSERT INTO recommendation_feedback AS f (mentee_id, mentor_id, rank, shown_at, action,
                                              acted_at, batch_id)
    SELECT s.mentee_id, s.mentor_id, s.rank, s.shown_at, s.action, s.acted_at, a.batch_id
    FROM staged s
    LEFT JOIN answered a USING (mentee_id, mentor_id, shown_at)
    ON CONFLICT (mentee_id, mentor_id, shown_at) DO UPDATE
    SET rank = EXCLUDED.rank, action = EXCLUDED.action, acted_at = EXCLUDED.acted_at,
        batch_id = EXCLUDED.batch_id
    WHERE (f.rank, f.action, f.acted_at, f.batch_id)
          IS DISTINCT FROM (EXCLUDED.rank, EXCLUDED.action, EXCLUDED.acted_at, EXCLUDED.batch_id)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

-- Insert new feedback rows, update changed ones (by mentee, mentor, shown time), each tied
-- to the published batch it answers when there is one (load/match_feedback_batches.sql).
WITH written AS (
    INSERT INTO recommendation_feedback AS f (mentee_id, mentor_id, rank, shown_at, action,
                                              acted_at, batch_id)
    SELECT me.id, mo.id, s.rank, s.shown_at, s.action, s.acted_at, s.batch_id
    FROM stage_feedback s
    JOIN mentees me ON me.external_id = s.mentee_id
    JOIN mentors mo ON mo.external_id = s.mentor_id
    ON CONFLICT (mentee_id, mentor_id, shown_at) DO UPDATE
    SET rank = EXCLUDED.rank, action = EXCLUDED.action, acted_at = EXCLUDED.acted_at,
        batch_id = EXCLUDED.batch_id
    WHERE (f.rank, f.action, f.acted_at, f.batch_id)
          IS DISTINCT FROM (EXCLUDED.rank, EXCLUDED.action, EXCLUDED.acted_at, EXCLUDED.batch_id)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

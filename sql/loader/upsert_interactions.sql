-- Insert new interactions, update changed ones (by mentee, mentor, request time).
WITH written AS (
    INSERT INTO interactions AS i (mentee_id, mentor_id, requested_at, status, ended_at, rating)
    SELECT me.id, mo.id, s.requested_at, s.status, s.ended_at, s.rating
    FROM stage_interactions s
    JOIN mentees me ON me.external_id = s.mentee_id
    JOIN mentors mo ON mo.external_id = s.mentor_id
    ON CONFLICT (mentee_id, mentor_id, requested_at) DO UPDATE
    SET status = EXCLUDED.status, ended_at = EXCLUDED.ended_at, rating = EXCLUDED.rating
    WHERE (i.status, i.ended_at, i.rating)
          IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.ended_at, EXCLUDED.rating)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

-- Insert new feedback rows, update changed ones (by mentee, mentor, shown time). Each row is
-- tied to the recommendation it answers: the newest published batch, published no later than
-- the row was shown, that recommended this mentor to this mentee at this rank. Rows answering
-- no published recommendation (e.g. a past recommender's lists) get batch_id NULL; the others
-- keep the recommendation's propensity (the probability it was shown at that rank) and the
-- model's P(success) of the pair.
WITH written AS (
    INSERT INTO recommendation_feedback AS f (mentee_id, mentor_id, rank, shown_at, action,
                                              acted_at, mentor_response, batch_id, propensity,
                                              p_success)
    SELECT me.id, mo.id, s.rank, s.shown_at, s.action, s.acted_at, s.mentor_response,
           answered.batch_id, answered.propensity, answered.p_success
    FROM stage_feedback s
    JOIN mentees me ON me.external_id = s.mentee_id
    JOIN mentors mo ON mo.external_id = s.mentor_id
    LEFT JOIN LATERAL (  -- a few published batches, each probed by its primary key
        SELECT b.id AS batch_id, r.propensity, r.p_success
        FROM recommendation_batches b
        JOIN recommendations r
          ON r.batch_id = b.id AND r.mentee_id = me.id AND r.rank = s.rank
         AND r.mentor_id = mo.id
        WHERE b.published_at <= s.shown_at
        ORDER BY b.published_at DESC
        LIMIT 1
    ) answered ON true
    ON CONFLICT (mentee_id, mentor_id, shown_at) DO UPDATE
    SET rank = EXCLUDED.rank, action = EXCLUDED.action, acted_at = EXCLUDED.acted_at,
        mentor_response = EXCLUDED.mentor_response, batch_id = EXCLUDED.batch_id,
        propensity = EXCLUDED.propensity, p_success = EXCLUDED.p_success
    WHERE (f.rank, f.action, f.acted_at, f.mentor_response, f.batch_id, f.propensity,
           f.p_success)
          IS DISTINCT FROM (EXCLUDED.rank, EXCLUDED.action, EXCLUDED.acted_at,
                            EXCLUDED.mentor_response, EXCLUDED.batch_id, EXCLUDED.propensity,
                            EXCLUDED.p_success)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

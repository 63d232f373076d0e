-- Feedback on published lists that logged the probability of each shown item (exploration),
-- shown since :since: one row per shown item (with the model's P(success) when shown), with
-- the batch's objective and list length.
SELECT f.batch_id, f.shown_at, f.mentee_id, f.mentor_id, f.rank, f.propensity, f.p_success,
       (f.action = 'accepted')::int AS accepted,
       coalesce(b.parameters ->> 'objective', 'relevance') AS objective,
       coalesce((b.parameters ->> 'k')::int, 10) AS k
FROM recommendation_feedback f
LEFT JOIN recommendation_batches b ON b.id = f.batch_id
WHERE f.propensity IS NOT NULL AND f.batch_id IS NOT NULL
  AND f.shown_at >= CAST(:since AS timestamptz)
ORDER BY f.batch_id, f.mentee_id, f.rank;

-- Feedback shown since :since (recent), and before it on lists the same model published
-- (a different model's lists are answered differently: no yardstick): rows and actions.
SELECT f.shown_at >= CAST(:since AS timestamptz) AS recent,
       count(*) AS rows,
       count(*) FILTER (WHERE f.action = 'accepted') AS accepted,
       count(*) FILTER (WHERE f.action = 'declined') AS declined,
       count(*) FILTER (WHERE f.action = 'ignored') AS ignored
FROM recommendation_feedback f
LEFT JOIN recommendation_batches b ON b.id = f.batch_id
WHERE f.shown_at >= CAST(:since AS timestamptz)
   OR b.model_version_id = CAST(:model_version_id AS bigint)
GROUP BY 1;

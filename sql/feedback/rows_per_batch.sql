-- Feedback rows per answered batch, and whether the batch was shown since :since.
SELECT batch_id, min(shown_at) >= CAST(:since AS timestamptz) AS recent, count(*) AS rows
FROM recommendation_feedback
WHERE batch_id IS NOT NULL
GROUP BY batch_id
ORDER BY batch_id;

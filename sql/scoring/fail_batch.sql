-- A run that failed with an error it could catch: record it (its table, never attached, is
-- dropped by the caller).
UPDATE recommendation_batches
SET status = 'failed', finished_at = now(), error = :error
WHERE id = :batch_id AND status = 'building'

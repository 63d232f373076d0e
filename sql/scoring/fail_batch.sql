-- A run that failed with an error it could catch: record it and drop the batch's rows.
UPDATE recommendation_batches
SET status = 'failed', finished_at = now(), error = :error
WHERE id = :batch_id AND status = 'building';
DELETE FROM recommendations WHERE batch_id = :batch_id;

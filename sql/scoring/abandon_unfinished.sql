-- Batches left 'building' by a run that died (only called while holding the scoring lock):
-- mark them failed and drop their rows. Readers never saw them.
WITH failed AS (
    UPDATE recommendation_batches
    SET status = 'failed', finished_at = now(),
        error = coalesce(error, 'run ended before publishing (killed or lost connection)')
    WHERE status = 'building'
    RETURNING id
)
DELETE FROM recommendations WHERE batch_id IN (SELECT id FROM failed);

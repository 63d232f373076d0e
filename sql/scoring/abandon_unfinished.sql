-- Batches left 'building' by a run that died (only called while holding the scoring lock):
-- mark them failed (their tables, never attached, are dropped by the caller). Readers never
-- saw them.
UPDATE recommendation_batches
SET status = 'failed', finished_at = now(),
    error = coalesce(error, 'run ended before publishing (killed or lost connection)')
WHERE status = 'building'

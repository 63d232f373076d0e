-- Publish: point readers at the new batch (one row, one short transaction).
INSERT INTO published_batch (singleton, batch_id, published_at)
VALUES (true, :batch_id, now())
ON CONFLICT (singleton) DO UPDATE SET batch_id = EXCLUDED.batch_id,
                                      published_at = EXCLUDED.published_at;
UPDATE recommendation_batches
SET status = 'published', finished_at = now(), published_at = now(),
    counts = CAST(:counts AS jsonb), timings = CAST(:timings AS jsonb)
WHERE id = :batch_id;

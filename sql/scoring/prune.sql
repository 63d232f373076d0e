-- Keep the newest :keep published batches (the current one always among them); older
-- published batches and their rows go. Failed batches keep their log row, not rows.
DELETE FROM recommendation_batches
WHERE status = 'published'
  AND id NOT IN (SELECT batch_id FROM published_batch)
  AND id NOT IN (SELECT id FROM recommendation_batches WHERE status = 'published'
                 ORDER BY id DESC LIMIT :keep);

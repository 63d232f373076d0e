-- Published batches that go: all but the newest :keep (the current one always stays). Failed
-- batches keep their log row; they have no rows.
SELECT id FROM recommendation_batches
WHERE status = 'published'
  AND id NOT IN (SELECT batch_id FROM published_batch)
  AND id NOT IN (SELECT id FROM recommendation_batches WHERE status = 'published'
                 ORDER BY id DESC LIMIT :keep)
ORDER BY id

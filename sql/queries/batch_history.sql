-- Recent scoring runs: status, model, counts and timings.
SELECT b.id, b.status, b.model_version_id, b.started_at, b.finished_at, b.published_at,
       b.counts ->> 'recommendations' AS recommendations,
       b.counts ->> 'mentees_short_of_k' AS mentees_short_of_k, b.timings, b.error,
       b.id = (SELECT batch_id FROM published_batch) AS current
FROM recommendation_batches b
ORDER BY b.id DESC
LIMIT :limit;

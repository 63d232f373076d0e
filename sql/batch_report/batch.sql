-- One batch (the published one when :batch_id is null) with its model, and the batch
-- published before it that is still kept (to compare scores with).
SELECT b.id, b.status, b.model_version_id, v.algorithm, b.parameters, b.counts, b.timings,
       b.started_at, b.finished_at, b.published_at,
       (SELECT max(p.id) FROM recommendation_batches p
        WHERE p.status = 'published' AND p.id < b.id) AS previous_id
FROM recommendation_batches b
LEFT JOIN model_versions v ON v.id = b.model_version_id
WHERE b.id = coalesce(CAST(:batch_id AS bigint), (SELECT batch_id FROM published_batch));

-- One model version without its artifact, with its promotions.
SELECT id, target, algorithm, status, created_at, parameters, features, training_window, row_counts,
       metrics, library_versions, artifact_format, octet_length(artifact) AS artifact_bytes,
       artifact_sha256, job_run_id
FROM model_versions WHERE id = :id;

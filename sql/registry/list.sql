-- Every model version without its artifact, newest first.
SELECT id, target, algorithm, status, created_at, training_window, row_counts, metrics
FROM model_versions ORDER BY id DESC;

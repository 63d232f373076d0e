UPDATE job_runs
SET status = :status, finished_at = now(), summary = CAST(:summary AS jsonb), error = :error
WHERE id = :id;

-- A run starts; its session's backend pid says whether it is still alive.
INSERT INTO job_runs (job, parameters, backend_pid, lease_token)
VALUES (:job, CAST(:parameters AS jsonb), pg_backend_pid(), :lease_token)
RETURNING id;

INSERT INTO job_runs (job, parameters) VALUES (:job, CAST(:parameters AS jsonb)) RETURNING id;

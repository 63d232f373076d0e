-- Runs still marked running whose session is gone (the process was killed or lost its
-- connection) are marked failed. A run's session lives exactly as long as the run.
UPDATE job_runs
SET status = 'failed', finished_at = now(),
    error = 'abandoned: the run ended without finishing (killed, or its database session '
            'was closed); its work was rolled back or never published'
WHERE status = 'running'
  AND (backend_pid IS NULL
       OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = job_runs.backend_pid))
RETURNING id, job;

-- The newest runs; a 'running' run whose session is gone is shown as abandoned.
SELECT r.id, r.job,
       CASE WHEN r.status = 'running'
                 AND (r.backend_pid IS NULL
                      OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                     WHERE a.pid = r.backend_pid))
            THEN 'abandoned' ELSE r.status END AS status,
       r.started_at, r.finished_at, r.error
FROM job_runs r
WHERE CAST(:job AS text) IS NULL OR r.job = :job
ORDER BY r.id DESC
LIMIT :limit;

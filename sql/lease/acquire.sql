-- Take the lease of job :job for this session unless a live session holds it: the token
-- grows by one, so anything the previous holder still tries to publish is refused
-- (fencing). Needs UPDATE on job_leases, which reader roles never have. Two sessions racing
-- serialise on the row: the second re-checks the row the first wrote and finds it held.
INSERT INTO job_leases (job) VALUES (:job) ON CONFLICT (job) DO NOTHING;
UPDATE job_leases
SET token = token + 1, holder_pid = pg_backend_pid(), holder = :holder,
    acquired_at = now(), released_at = NULL
WHERE job = :job
  AND (holder_pid IS NULL
       OR NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = job_leases.holder_pid))
RETURNING token;

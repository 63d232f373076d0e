-- Inside the transaction that publishes: is the lease of :job still held with :token by a
-- live session? Locks the row, so a run taking the lease over waits until this commits.
SELECT token = :token
       AND holder_pid IS NOT NULL
       AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = job_leases.holder_pid)
FROM job_leases
WHERE job = :job
FOR UPDATE;

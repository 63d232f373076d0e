-- The holder's heartbeat: keeps its session from being closed as idle and proves it alive.
SELECT token FROM job_leases WHERE job = :job AND holder_pid = pg_backend_pid();

-- Who holds the lease of :job (for the message of a run that could not take it).
SELECT holder, holder_pid, acquired_at FROM job_leases WHERE job = :job;

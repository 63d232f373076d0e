-- Give the lease back (only if it is still ours).
UPDATE job_leases SET holder_pid = NULL, released_at = now()
WHERE job = :job AND token = :token;

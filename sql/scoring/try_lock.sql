-- The nightly scoring lock: a session-level advisory lock, released when the connection that
-- took it ends (also when the process is killed).
SELECT pg_try_advisory_lock(:key);

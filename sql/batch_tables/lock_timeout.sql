-- How long this session's statements wait for a lock (until reset_lock_timeout.sql).
SELECT set_config('lock_timeout', :timeout, false)

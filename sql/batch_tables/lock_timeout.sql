-- How long this session's statements wait for a lock (the rest of the session).
SELECT set_config('lock_timeout', :timeout, false)

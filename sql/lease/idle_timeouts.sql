-- The server's idle timeouts for this session, in milliseconds (0 = none).
SELECT current_setting('idle_session_timeout')::interval,
       current_setting('idle_in_transaction_session_timeout')::interval;

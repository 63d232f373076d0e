-- The session's lock timeout back to the server's setting (the connection returns to a pool).
RESET lock_timeout

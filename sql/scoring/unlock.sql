-- Release the nightly scoring lock (the connection goes back to a pool, so it must be
-- released explicitly; a killed process releases it by ending its session).
SELECT pg_advisory_unlock(:key);

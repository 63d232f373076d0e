-- Every batch table in matcher's schema: its batch, whether it is a partition of
-- recommendations and whether a detach of it was interrupted.
SELECT substring(c.relname FROM '^recommendations_batch_([0-9]+)$')::bigint AS batch_id,
       c.relname AS name,
       i.inhrelid IS NOT NULL AS attached,
       coalesce(i.inhdetachpending, false) AS detach_pending
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
LEFT JOIN pg_inherits i ON i.inhrelid = c.oid AND i.inhparent = 'recommendations'::regclass
WHERE c.relkind = 'r' AND c.relname ~ '^recommendations_batch_[0-9]+$'
ORDER BY batch_id

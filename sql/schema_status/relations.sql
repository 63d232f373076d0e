-- Tables and views of matcher's schema (matcher db status); row counts are added per table.
-- A partitioned table counts its partitions' rows; they and unattached batch tables are not
-- listed apart.
SELECT c.relname AS name,
       CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS kind
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v') AND c.relname <> 'alembic_version'
  AND NOT c.relispartition AND c.relname !~ '^recommendations_batch_[0-9]+$'
ORDER BY c.relkind = 'v', c.relname;

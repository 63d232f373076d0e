-- What a bulk load into :table drops first and rebuilds afterwards: its plain (non-unique)
-- indexes and its foreign keys, each with the DDL that recreates it exactly, and for a
-- foreign key the table it refers to (dropping one locks that table too). Primary and
-- unique keys stay: upserts need them to find existing rows.
SELECT 'index' AS kind, c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
       NULL AS refers_to
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = CAST(:table AS regclass) AND NOT i.indisunique AND NOT i.indisprimary
UNION ALL
SELECT 'foreign key', k.conname, pg_get_constraintdef(k.oid), r.relname
FROM pg_constraint k
JOIN pg_class r ON r.oid = k.confrelid
WHERE k.conrelid = CAST(:table AS regclass) AND k.contype = 'f'
ORDER BY kind, name;

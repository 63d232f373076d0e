-- Name this REPEATABLE READ transaction's snapshot so worker connections can share it.
SELECT pg_export_snapshot();

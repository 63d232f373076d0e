-- Read exactly what the coordinating transaction reads (first statement of a REPEATABLE READ
-- transaction).
SET TRANSACTION SNAPSHOT :snapshot;

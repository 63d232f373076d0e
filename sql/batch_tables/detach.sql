-- Take an old batch's partition out of recommendations without blocking readers (outside a
-- transaction; waits for queries that may be reading it).
ALTER TABLE recommendations DETACH PARTITION {table} CONCURRENTLY

-- The table a run COPYs its batch into: recommendations' columns, defaults and CHECKs, and no
-- index or foreign key, so that nothing is checked row by row while it fills (publish.sql
-- attaches it; PostgreSQL then checks each foreign key in one query and builds the indexes).
-- Its own CHECK on the batch id implies the partition's bound, so attaching it skips the scan
-- that would prove the bound (0.2 s of a large batch's attach).
CREATE TABLE {table} (LIKE recommendations INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
                      CHECK (batch_id = {batch_id}))

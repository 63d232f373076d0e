-- The table a run COPYs its batch into: recommendations' columns, defaults and CHECKs, and no
-- index or foreign key, so that nothing is checked row by row while it fills (publish.sql
-- attaches it; PostgreSQL then checks each foreign key in one query and builds the indexes).
CREATE TABLE {table} (LIKE recommendations INCLUDING DEFAULTS INCLUDING CONSTRAINTS)

-- Finish a detach that was interrupted (the partition is left "detach pending").
ALTER TABLE recommendations DETACH PARTITION {table} FINALIZE

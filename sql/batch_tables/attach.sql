-- Make a filled batch table the batch's partition of recommendations (in the publishing
-- transaction: readers see the rows and the new published batch together, or neither).
ALTER TABLE recommendations ATTACH PARTITION {table} FOR VALUES IN ({batch_id})

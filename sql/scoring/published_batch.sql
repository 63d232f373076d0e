-- The published batch's id (no row before the first publish).
SELECT batch_id FROM published_batch;

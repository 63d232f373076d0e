-- Feedback rows already recorded for a batch.
SELECT count(*) FROM recommendation_feedback WHERE batch_id = :batch_id;

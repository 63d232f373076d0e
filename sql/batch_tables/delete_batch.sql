-- A pruned batch's log row (its partition is gone already, so nothing cascades to rows).
DELETE FROM recommendation_batches WHERE id = :batch_id

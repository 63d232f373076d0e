-- A new batch, invisible to readers until published.
INSERT INTO recommendation_batches (status, model_version_id, parameters)
VALUES ('building', :model_version_id, CAST(:parameters AS jsonb))
RETURNING id;

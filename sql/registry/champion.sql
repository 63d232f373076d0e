-- The id of the champion model, if any.
SELECT id FROM model_versions WHERE status = 'champion';

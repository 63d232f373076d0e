-- The status of one model version (candidate, champion or retired).
SELECT status, target FROM model_versions WHERE id = :id;

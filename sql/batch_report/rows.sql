-- A batch's recommendations: rank, ranking score, both probabilities and how each was shown.
SELECT mentee_id, rank, score, p_accept, p_success, propensity, explored
FROM recommendations
WHERE batch_id = :batch_id;

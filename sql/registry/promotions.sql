-- The promotion log, newest first.
SELECT p.id, p.model_version_id, v.algorithm, p.previous_champion_id, p.promoted_by,
       p.reason, p.forced, p.promoted_at
FROM model_promotions p JOIN model_versions v ON v.id = p.model_version_id
ORDER BY p.id DESC;

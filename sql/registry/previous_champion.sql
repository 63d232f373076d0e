-- The champion before the current one: what a rollback restores.
SELECT previous_champion_id FROM model_promotions
WHERE model_version_id = (SELECT id FROM model_versions
                          WHERE status = 'champion' AND target = :target)
ORDER BY id DESC LIMIT 1;

-- Make :id the champion: the current champion (if another) is retired and the change is
-- logged with who, why and the previous champion. Run in one transaction after locking.
WITH previous AS (
    UPDATE model_versions SET status = 'retired'
    WHERE status = 'champion' AND id <> :id
      AND target = (SELECT target FROM model_versions WHERE id = :id)
    RETURNING id
),
promoted AS (
    UPDATE model_versions SET status = 'champion'
    WHERE id = :id AND id NOT IN (SELECT id FROM previous)
    RETURNING id
)
INSERT INTO model_promotions (model_version_id, previous_champion_id, promoted_by, reason,
                              forced)
SELECT promoted.id, (SELECT id FROM previous), :promoted_by, :reason, :forced
FROM promoted
RETURNING previous_champion_id;

-- The id of the champion model of :target (success or acceptance), if any.
SELECT id FROM model_versions WHERE status = 'champion' AND target = :target;

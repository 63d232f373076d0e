-- The retraining decisions, newest first.
SELECT id, decided_at, outcome, forced, challenger_id, champion_id, decided_by, reason
FROM model_decisions
ORDER BY id DESC;

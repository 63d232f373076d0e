-- Log one retraining decision.
INSERT INTO model_decisions (challenger_id, champion_id, outcome, forced, reason, comparison,
                             feedback_checks, decided_by, job_run_id)
VALUES (:challenger_id, :champion_id, :outcome, :forced, :reason,
        CAST(:comparison AS jsonb), CAST(:feedback_checks AS jsonb), :decided_by, :job_run_id)
RETURNING id;

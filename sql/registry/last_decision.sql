-- When matcher retrain last decided (promoted, kept or dry run), if ever.
SELECT max(decided_at) FROM model_decisions;

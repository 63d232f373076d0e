-- Register a trained model as a candidate.
INSERT INTO model_versions (algorithm, parameters, features, training_window, row_counts,
                            metrics, library_versions, artifact_format, artifact,
                            artifact_sha256, artifact_signature, job_run_id, target,
                            feature_profile)
VALUES (:algorithm, CAST(:parameters AS jsonb), :features, CAST(:training_window AS jsonb),
        CAST(:row_counts AS jsonb), CAST(:metrics AS jsonb), CAST(:library_versions AS jsonb),
        :artifact_format, :artifact, :artifact_sha256, :artifact_signature, :job_run_id, :target,
        CAST(:feature_profile AS jsonb))
RETURNING id;

-- One model version with its artifact.
SELECT id, algorithm, status, parameters, features, artifact_format, artifact, artifact_sha256,
       artifact_signature, feature_profile
FROM model_versions WHERE id = :id;

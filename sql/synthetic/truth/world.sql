-- The seeded world's truth coefficients (synthetic worlds only).
SELECT coefficients FROM synthetic_truth.world;

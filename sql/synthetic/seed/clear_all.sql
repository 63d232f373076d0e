-- Delete all programme data (overrides too), recommendations and truth before seeding a new
-- world.
-- The model registry and run log are kept.
TRUNCATE mentors, mentees, interactions, recommendation_feedback, recommendations, overrides,
         published_batch, batch_mentors, recommendation_batches, synthetic_truth.world,
         synthetic_truth.mentor_traits, synthetic_truth.mentee_traits
RESTART IDENTITY;

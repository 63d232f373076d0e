DROP TABLE stage_mentors, stage_mentees, stage_interactions, stage_feedback;

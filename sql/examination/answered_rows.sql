-- Feedback rows shown before :before on lists matcher published: rank, whether the person
-- answered (accepted or declined) and the model's P(success) of the pair when it was shown.
SELECT rank, (action IN ('accepted', 'declined'))::int AS answered, p_success
FROM recommendation_feedback
WHERE p_success IS NOT NULL AND shown_at < CAST(:before AS timestamptz);

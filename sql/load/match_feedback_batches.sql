-- Tie each staged feedback row to the recommendation it answers: the newest published batch,
-- published no later than the row was shown, that recommended this mentor to this mentee at
-- this rank. Rows answering no published recommendation (e.g. a past recommender's lists)
-- keep batch_id NULL.
UPDATE stage_feedback s
SET batch_id = (
    SELECT b.id
    FROM recommendations r
    JOIN recommendation_batches b ON b.id = r.batch_id
    WHERE r.mentee_id = me.id AND r.mentor_id = mo.id AND r.rank = s.rank
      AND b.published_at IS NOT NULL AND b.published_at <= s.shown_at
    ORDER BY b.published_at DESC
    LIMIT 1)
FROM mentees me, mentors mo
WHERE me.external_id = s.mentee_id AND mo.external_id = s.mentor_id;

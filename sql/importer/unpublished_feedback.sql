-- Positions (1-based, in the order given) of feedback rows that answer no published
-- recommendation: no batch published by the time the row was shown recommended this mentor
-- to this mentee at this rank. Ids are the programme's own.
SELECT f.position
FROM unnest(CAST(:mentee_ids AS text[]), CAST(:mentor_ids AS text[]),
            CAST(:ranks AS int[]), CAST(:shown_at AS timestamptz[]))
     WITH ORDINALITY AS f (mentee_id, mentor_id, rank, shown_at, position)
WHERE NOT EXISTS (
    SELECT 1
    FROM mentees me
    JOIN recommendations r ON r.mentee_id = me.id
    JOIN mentors mo ON mo.id = r.mentor_id
    JOIN recommendation_batches b ON b.id = r.batch_id
    WHERE me.external_id = f.mentee_id AND mo.external_id = f.mentor_id AND r.rank = f.rank
      AND b.published_at IS NOT NULL AND b.published_at <= f.shown_at)
ORDER BY f.position;

-- Free seats of every eligible mentor when the published batch was scored.
SELECT bm.mentor_id, bm.free_seats
FROM published_batch p
JOIN batch_mentors bm ON bm.batch_id = p.batch_id
WHERE bm.free_seats > 0;

-- Per eligible mentor of a batch: free seats, lists naming them, expected requests.
SELECT mo.external_id AS mentor_id, bm.free_seats, bm.lists, bm.expected_requests
FROM batch_mentors bm
JOIN mentors mo ON mo.id = bm.mentor_id
WHERE bm.batch_id = :batch_id
ORDER BY bm.lists DESC, mo.external_id;

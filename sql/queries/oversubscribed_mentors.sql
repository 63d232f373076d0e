-- Mentors whose expected requests under the published lists exceed their free seats,
-- most oversubscribed first (requests per seat). Figures recorded when the batch was scored.
SELECT mo.external_id AS mentor_id, bm.free_seats, bm.lists,
       round(bm.expected_requests::numeric, 1) AS expected_requests,
       round((bm.expected_requests / bm.free_seats)::numeric, 1) AS requests_per_seat,
       round(bm.price::numeric, 3) AS price
FROM published_batch p
JOIN batch_mentors bm ON bm.batch_id = p.batch_id
JOIN mentors mo ON mo.id = bm.mentor_id
WHERE bm.free_seats > 0 AND bm.expected_requests > bm.free_seats
ORDER BY bm.expected_requests / bm.free_seats DESC, mo.external_id;

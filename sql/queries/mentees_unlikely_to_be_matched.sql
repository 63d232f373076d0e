-- Mentees whose published list is unlikely to form a mentorship: the chance that none of
-- their first three recommendations takes them is at least :threshold (e.g. 0.8). Each
-- mentor takes them with P(accept) x the share of its expected requests its free seats can
-- serve (recorded when the batch was scored). Worth a personal introduction.
WITH listed AS (
    SELECT r.mentee_id,
           r.p_accept * least(1.0, bm.free_seats / nullif(bm.expected_requests, 0)) AS p
    FROM current_recommendations r
    JOIN mentors mo ON mo.external_id = r.mentor_id
    JOIN batch_mentors bm ON bm.batch_id = r.batch_id AND bm.mentor_id = mo.id
    WHERE r.rank <= 3 AND r.p_accept IS NOT NULL
)
SELECT mentee_id,
       round(exp(sum(ln(greatest(1 - p, 1e-9))))::numeric, 3) AS p_no_mentor
FROM listed
GROUP BY mentee_id
HAVING exp(sum(ln(greatest(1 - p, 1e-9)))) >= :threshold
ORDER BY p_no_mentor DESC, mentee_id;

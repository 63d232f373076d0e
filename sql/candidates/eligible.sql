-- Mentors that may be recommended as of :as_of, with what the candidate prefilter needs
-- (matcher/candidates.py): active, not paused by an override, with fewer active pairings than
-- their capacity (lowered by a capacity override in force), and their success rate so far
-- shrunk towards the global rate (as mentor_success_smoothed in features/select.sql). In id
-- order.
WITH global AS (
    SELECT coalesce(avg((status = 'completed')::int), CAST(:rate_prior AS float8)) AS rate
    FROM interactions
    WHERE status IN ('completed', 'abandoned') AND ended_at < CAST(:as_of AS timestamptz)
)
SELECT m.id, m.domains, m.skills, m.languages, m.availability_utc::text AS availability,
       (h.completed + :prior_weight * global.rate) / (h.completed + h.abandoned + :prior_weight)
           AS prior
FROM mentors m
CROSS JOIN global
LEFT JOIN mentor_limits(CAST(:as_of AS timestamptz)) held ON held.mentor_id = m.id
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE i.status = 'active') AS active,
           count(*) FILTER (WHERE i.status = 'completed'
                            AND i.ended_at < CAST(:as_of AS timestamptz)) AS completed,
           count(*) FILTER (WHERE i.status = 'abandoned'
                            AND i.ended_at < CAST(:as_of AS timestamptz)) AS abandoned
    FROM interactions i WHERE i.mentor_id = m.id) h
WHERE m.active AND NOT coalesce(held.paused, false)
  AND least(m.capacity, coalesce(held.capacity, m.capacity)) > h.active
ORDER BY m.id;

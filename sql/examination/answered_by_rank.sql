-- Per rank, recommendations shown before :before and how many were answered (accepted or
-- declined): the estimate of how often each position is looked at (position bias).
SELECT rank, count(*) AS shown,
       count(*) FILTER (WHERE action IN ('accepted', 'declined')) AS answered
FROM recommendation_feedback
WHERE shown_at < CAST(:before AS timestamptz)
GROUP BY rank
ORDER BY rank;

-- Feedback by the rank it was shown at: shown, answered and accepted shares (all feedback).
SELECT rank, count(*) AS shown,
       avg((action IN ('accepted', 'declined'))::int) AS answered_share,
       avg((action = 'accepted')::int) AS accepted_share
FROM recommendation_feedback
GROUP BY rank
ORDER BY rank;

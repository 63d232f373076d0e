-- Acceptance rate by the rank a recommendation was shown at (all feedback).
SELECT rank, count(*) AS shown,
       count(*) FILTER (WHERE action = 'accepted') AS accepted,
       round(avg((action = 'accepted')::int), 4) AS acceptance_rate
FROM recommendation_feedback
GROUP BY rank
ORDER BY rank;

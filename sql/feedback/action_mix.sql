-- Feedback shown before and since :since: rows and actions.
SELECT shown_at >= CAST(:since AS timestamptz) AS recent,
       count(*) AS rows,
       count(*) FILTER (WHERE action = 'accepted') AS accepted,
       count(*) FILTER (WHERE action = 'declined') AS declined,
       count(*) FILTER (WHERE action = 'ignored') AS ignored
FROM recommendation_feedback
GROUP BY 1;

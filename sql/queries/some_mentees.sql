-- A few mentees that have current recommendations (for `matcher show`).
SELECT mentee_id FROM current_recommendations WHERE rank = 1 ORDER BY mentee_id LIMIT :n;

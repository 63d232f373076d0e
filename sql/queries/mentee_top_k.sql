-- A mentee's current recommendations with mentor details, best first.
-- :mentee_id is the programme's mentee id. Needs SELECT on mentors as well as the view.
SELECT r.rank, r.mentor_id, r.score, r.reasons, r.explanation, r.p_accept, r.p_success,
       m.domains, m.skills, m.timezone,
       m.languages, m.capacity, r.batch_id, r.generated_at
FROM current_recommendations r
JOIN mentors m ON m.external_id = r.mentor_id
WHERE r.mentee_id = :mentee_id
ORDER BY r.rank;

-- Rank, action and ids of the feedback pairs, ordered like sql/features/select.sql.
SELECT f.id AS pair_id, me.external_id AS mentee_external_id,
       mo.external_id AS mentor_external_id, f.shown_at AS as_of,
       f.batch_id, f.rank, f.action, (f.action = 'accepted')::int AS accepted,
       f.mentor_response
FROM recommendation_feedback f
JOIN mentees me ON me.id = f.mentee_id
JOIN mentors mo ON mo.id = f.mentor_id
ORDER BY f.id;

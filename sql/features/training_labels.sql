-- Labels and ids of the training pairs, ordered like sql/features/select.sql.
SELECT i.id AS pair_id, me.external_id AS mentee_external_id,
       mo.external_id AS mentor_external_id, i.requested_at AS as_of,
       (i.status <> 'declined')::int AS accepted,
       CASE i.status WHEN 'completed' THEN 1 WHEN 'abandoned' THEN 0 END AS success
FROM interactions i
JOIN mentees me ON me.id = i.mentee_id
JOIN mentors mo ON mo.id = i.mentor_id
ORDER BY i.id;

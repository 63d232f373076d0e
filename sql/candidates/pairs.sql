-- The generated candidate pairs with the programme's ids, ordered like features/select.sql.
SELECT p.pair_id, p.mentee_id, p.mentor_id, p.as_of, me.external_id AS mentee_external_id,
       mo.external_id AS mentor_external_id
FROM feature_pairs p
JOIN mentees me ON me.id = p.mentee_id
JOIN mentors mo ON mo.id = p.mentor_id
ORDER BY p.pair_id;

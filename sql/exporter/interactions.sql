-- interactions.csv of the interchange format
SELECT me.external_id AS mentee_id, mo.external_id AS mentor_id, i.requested_at, i.status,
       i.ended_at, i.rating
FROM interactions i
JOIN mentees me ON me.id = i.mentee_id
JOIN mentors mo ON mo.id = i.mentor_id
ORDER BY me.external_id, i.requested_at, mo.external_id;

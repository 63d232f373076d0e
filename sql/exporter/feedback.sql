-- feedback.csv of the interchange format
SELECT me.external_id AS mentee_id, mo.external_id AS mentor_id, f.rank, f.shown_at, f.action,
       f.acted_at, f.mentor_response
FROM recommendation_feedback f
JOIN mentees me ON me.id = f.mentee_id
JOIN mentors mo ON mo.id = f.mentor_id
ORDER BY me.external_id, f.shown_at, f.rank;

-- Staged interactions/feedback naming a mentee or mentor that exists neither in this load
-- nor in the database (the importer reports these with file and line before loading).
SELECT 'interactions' AS file, s.mentee_id, s.mentor_id
FROM stage_interactions s
LEFT JOIN mentees me ON me.external_id = s.mentee_id
LEFT JOIN mentors mo ON mo.external_id = s.mentor_id
WHERE me.id IS NULL OR mo.id IS NULL
UNION ALL
SELECT 'feedback', s.mentee_id, s.mentor_id
FROM stage_feedback s
LEFT JOIN mentees me ON me.external_id = s.mentee_id
LEFT JOIN mentors mo ON mo.external_id = s.mentor_id
WHERE me.id IS NULL OR mo.id IS NULL
LIMIT 20;

-- One override (ids are the programme's); returns its id, or nothing if a person is unknown.
INSERT INTO overrides (kind, mentor_id, mentee_id, until, capacity, reason, created_by)
SELECT :kind, mo.id, me.id, CAST(:until AS timestamptz), CAST(:capacity AS integer), :reason,
       :created_by
FROM mentors mo
LEFT JOIN mentees me ON me.external_id = :mentee_id
WHERE mo.external_id = :mentor_id AND (CAST(:mentee_id AS text) IS NULL OR me.id IS NOT NULL)
RETURNING id;

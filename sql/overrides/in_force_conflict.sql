-- The override of this kind for this mentor (and mentee) still in force, if any; or the pin
-- in force for this mentee (one manual match per mentee).
SELECT o.id, o.kind
FROM overrides o
JOIN mentors mo ON mo.id = o.mentor_id
LEFT JOIN mentees me ON me.id = o.mentee_id
WHERE o.removed_at IS NULL
  AND ((o.kind = :kind AND mo.external_id = :mentor_id
        AND me.external_id IS NOT DISTINCT FROM CAST(:mentee_id AS text))
       OR (:kind = 'pin' AND o.kind = 'pin' AND me.external_id = :mentee_id))
LIMIT 1;

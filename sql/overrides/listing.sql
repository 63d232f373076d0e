-- Overrides with the programme's ids, newest first: those in force now, or every one with
-- :everything (removed and expired ones too: the audit trail).
SELECT o.id, o.kind, mo.external_id AS mentor_id, me.external_id AS mentee_id, o.until,
       o.capacity, o.reason, o.created_by, o.created_at, o.removed_by, o.removed_at,
       o.removed_reason,
       (o.removed_at IS NULL AND (o.until IS NULL OR o.until > now())) AS in_force
FROM overrides o
JOIN mentors mo ON mo.id = o.mentor_id
LEFT JOIN mentees me ON me.id = o.mentee_id
WHERE CAST(:everything AS boolean)
   OR (o.removed_at IS NULL AND (o.until IS NULL OR o.until > now()))
ORDER BY o.id DESC;

-- Remove an override: it stops being in force; the row stays, with who removed it, when and why.
UPDATE overrides
SET removed_at = now(), removed_by = :removed_by, removed_reason = :reason
WHERE id = :id AND removed_at IS NULL
RETURNING id;

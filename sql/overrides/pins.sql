-- The mentor pinned for each mentee by an override in force at :as_of (internal ids).
SELECT mentee_id, mentor_id FROM overrides_in_force(CAST(:as_of AS timestamptz))
WHERE kind = 'pin';

-- Whether a role of this name exists (roles are cluster-wide).
SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :role);

-- This database and the role matcher runs as (for grants).
SELECT current_database(), current_user;

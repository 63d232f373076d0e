-- Staging tables for one load; dropped at commit. Columns follow the CSV interchange format.
-- JIT is off for the load's transaction: the feedback upsert's per-row batch lookup makes its
-- estimated cost large enough to trigger JIT compilation, pure overhead for row-at-a-time
-- writes (seen in EXPLAIN ANALYZE; no benchmark script isolates it).
SET LOCAL jit = off;
CREATE TEMP TABLE stage_mentors (
    mentor_id text, domains text[], skills text[], industry text, timezone text,
    languages text[], style text, experience_years int, capacity int, availability text,
    bio text, active boolean, availability_utc bit(672)
) ON COMMIT DROP;
CREATE TEMP TABLE stage_mentees (
    mentee_id text, domains text[], skills text[], industry text, timezone text,
    languages text[], preferred_style text, experience_level text, availability text,
    goals text, active boolean, availability_utc bit(672)
) ON COMMIT DROP;
CREATE TEMP TABLE stage_interactions (
    mentee_id text, mentor_id text, requested_at timestamptz, status text,
    ended_at timestamptz, rating smallint
) ON COMMIT DROP;
CREATE TEMP TABLE stage_feedback (
    mentee_id text, mentor_id text, rank smallint, shown_at timestamptz, action text,
    acted_at timestamptz, mentor_response text
) ON COMMIT DROP;

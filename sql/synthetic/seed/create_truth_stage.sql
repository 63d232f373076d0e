CREATE TEMP TABLE stage_mentor_traits (mentor_id text, quality float8, popularity float8)
    ON COMMIT DROP;
CREATE TEMP TABLE stage_mentee_traits (mentee_id text, motivation float8) ON COMMIT DROP;

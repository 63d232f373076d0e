-- Insert new mentees, update changed ones (by external id); unchanged rows are left alone.
WITH written AS (
    INSERT INTO mentees AS m (external_id, domains, skills, industry, timezone, languages,
                              preferred_style, experience_level, availability, availability_utc,
                              goals, active)
    SELECT mentee_id, domains, skills, industry, timezone, languages, preferred_style,
           experience_level, availability, availability_utc, goals, active
    FROM stage_mentees
    ON CONFLICT (external_id) DO UPDATE
    SET domains = EXCLUDED.domains, skills = EXCLUDED.skills, industry = EXCLUDED.industry,
        timezone = EXCLUDED.timezone, languages = EXCLUDED.languages,
        preferred_style = EXCLUDED.preferred_style, experience_level = EXCLUDED.experience_level,
        availability = EXCLUDED.availability, availability_utc = EXCLUDED.availability_utc,
        goals = EXCLUDED.goals, active = EXCLUDED.active, updated_at = now()
    WHERE (m.domains, m.skills, m.industry, m.timezone, m.languages, m.preferred_style,
           m.experience_level, m.availability, m.availability_utc, m.goals, m.active)
          IS DISTINCT FROM
          (EXCLUDED.domains, EXCLUDED.skills, EXCLUDED.industry, EXCLUDED.timezone,
           EXCLUDED.languages, EXCLUDED.preferred_style, EXCLUDED.experience_level,
           EXCLUDED.availability, EXCLUDED.availability_utc, EXCLUDED.goals, EXCLUDED.active)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

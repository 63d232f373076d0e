-- Insert new mentors, update changed ones (by external id); unchanged rows are left alone.
WITH written AS (
    INSERT INTO mentors AS m (external_id, domains, skills, industry, timezone, languages, style,
                              experience_years, capacity, availability, availability_utc, bio,
                              active)
    SELECT mentor_id, domains, skills, industry, timezone, languages, style, experience_years,
           capacity, availability, availability_utc, bio, active
    FROM stage_mentors
    ON CONFLICT (external_id) DO UPDATE
    SET domains = EXCLUDED.domains, skills = EXCLUDED.skills, industry = EXCLUDED.industry,
        timezone = EXCLUDED.timezone, languages = EXCLUDED.languages, style = EXCLUDED.style,
        experience_years = EXCLUDED.experience_years, capacity = EXCLUDED.capacity,
        availability = EXCLUDED.availability, availability_utc = EXCLUDED.availability_utc,
        bio = EXCLUDED.bio, active = EXCLUDED.active, updated_at = now()
    WHERE (m.domains, m.skills, m.industry, m.timezone, m.languages, m.style,
           m.experience_years, m.capacity, m.availability, m.availability_utc, m.bio, m.active)
          IS DISTINCT FROM
          (EXCLUDED.domains, EXCLUDED.skills, EXCLUDED.industry, EXCLUDED.timezone,
           EXCLUDED.languages, EXCLUDED.style, EXCLUDED.experience_years, EXCLUDED.capacity,
           EXCLUDED.availability, EXCLUDED.availability_utc, EXCLUDED.bio, EXCLUDED.active)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written;

-- mentees.csv of the interchange format
SELECT external_id AS mentee_id, domains, skills, industry, timezone, languages,
       preferred_style, experience_level, availability, goals, active
FROM mentees ORDER BY external_id;

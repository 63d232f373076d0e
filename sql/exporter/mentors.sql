-- mentors.csv of the interchange format
SELECT external_id AS mentor_id, domains, skills, industry, timezone, languages, style,
       experience_years, capacity, availability, bio, active
FROM mentors ORDER BY external_id;

-- Mentee attributes and hidden motivation, for recomputing true probabilities.
SELECT m.id, m.domains, m.skills, m.languages, m.availability_utc::text AS availability_utc,
       m.preferred_style, m.industry, m.experience_level, t.motivation
FROM mentees m JOIN synthetic_truth.mentee_traits t ON t.mentee_id = m.id
ORDER BY m.id;

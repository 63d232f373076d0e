-- Mentor attributes and hidden quality, for recomputing true probabilities.
SELECT m.id, m.domains, m.skills, m.languages, m.availability_utc::text AS availability_utc,
       m.style, m.industry, m.experience_years, t.quality
FROM mentors m JOIN synthetic_truth.mentor_traits t ON t.mentor_id = m.id
ORDER BY m.id;

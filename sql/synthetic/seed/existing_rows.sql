-- How many people the database holds (seeding refuses to overwrite them without --replace).
SELECT (SELECT count(*) FROM mentors) + (SELECT count(*) FROM mentees);

-- How many skills and domains each active mentee asks for (readable reasons: "shares 3 of the
-- 4 skills asked for").
SELECT id AS mentee_id, coalesce(cardinality(skills), 0) AS skills_wanted,
       coalesce(cardinality(domains), 0) AS domains_wanted
FROM mentees
WHERE active;

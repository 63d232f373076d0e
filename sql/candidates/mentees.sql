-- The given active mentees with what the candidate prefilter needs, and the mentors each has
-- already requested (whatever became of it: those are never candidates). In id order.
SELECT e.id, e.domains, e.skills, e.languages, e.availability_utc::text AS availability,
       coalesce((SELECT array_agg(i.mentor_id) FROM interactions i WHERE i.mentee_id = e.id),
                '{}') AS requested
FROM mentees e
WHERE e.active AND e.id = ANY(CAST(:mentee_ids AS bigint[]))
ORDER BY e.id;

-- The given active mentees with what the candidate prefilter needs, the mentors each has
-- already requested (whatever became of it: those are never candidates), the mentors an
-- override blocks for them as of :as_of (never candidates either) and the mentor pinned for
-- them (always a candidate when eligible). In id order.
SELECT e.id, e.domains, e.skills, e.languages, e.availability_utc::text AS availability,
       coalesce((SELECT array_agg(i.mentor_id) FROM interactions i WHERE i.mentee_id = e.id),
                '{}') AS requested,
       coalesce((SELECT array_agg(o.mentor_id)
                 FROM overrides_in_force(CAST(:as_of AS timestamptz)) o
                 WHERE o.mentee_id = e.id AND o.kind = 'block'), '{}') AS blocked,
       (SELECT o.mentor_id FROM overrides_in_force(CAST(:as_of AS timestamptz)) o
        WHERE o.mentee_id = e.id AND o.kind = 'pin') AS pinned
FROM mentees e
WHERE e.active AND e.id = ANY(CAST(:mentee_ids AS bigint[]))
ORDER BY e.id;

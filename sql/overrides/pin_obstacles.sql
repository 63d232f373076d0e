-- Why a pinned mentor could not be recommended to the mentee (internal ids, one row per pair,
-- in the order given): each obstacle that holds now.
SELECT p.mentee_id, p.mentor_id,
       concat_ws('; ',
           CASE WHEN NOT mo.active THEN 'the mentor is inactive' END,
           CASE WHEN NOT me.active THEN 'the mentee is inactive' END,
           (SELECT 'the mentor is paused until ' || to_char(max(o.until) AT TIME ZONE 'UTC',
                                                          'YYYY-MM-DD HH24:MI "UTC"')
            FROM overrides_in_force(now()) o
            WHERE o.kind = 'pause' AND o.mentor_id = p.mentor_id HAVING count(*) > 0),
           CASE WHEN EXISTS (SELECT 1 FROM overrides_in_force(now()) o
                             WHERE o.kind = 'block' AND o.mentor_id = p.mentor_id
                               AND o.mentee_id = p.mentee_id)
                THEN 'an override blocks the pair' END,
           CASE WHEN EXISTS (SELECT 1 FROM interactions i
                             WHERE i.mentor_id = p.mentor_id AND i.mentee_id = p.mentee_id)
                THEN 'the mentee already asked this mentor' END,
           CASE WHEN (SELECT count(*) FROM interactions i
                      WHERE i.mentor_id = p.mentor_id AND i.status = 'active')
                     >= least(mo.capacity, coalesce(held.capacity, mo.capacity))
                THEN 'the mentor has no free seat' END) AS obstacles
FROM unnest(CAST(:mentee_ids AS bigint[]), CAST(:mentor_ids AS bigint[]))
     WITH ORDINALITY AS p (mentee_id, mentor_id, position)
JOIN mentors mo ON mo.id = p.mentor_id
JOIN mentees me ON me.id = p.mentee_id
LEFT JOIN mentor_limits(now()) held ON held.mentor_id = p.mentor_id
ORDER BY p.position;

-- Mentors that may be recommended now: active, with fewer active pairings than capacity.
SELECT m.id FROM mentors m
WHERE m.active
  AND m.capacity > (SELECT count(*) FROM interactions i
                    WHERE i.mentor_id = m.id AND i.status = 'active')
ORDER BY m.id;

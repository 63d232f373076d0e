-- The programme's id and matcher's internal id of every mentor.
SELECT external_id, id FROM mentors;

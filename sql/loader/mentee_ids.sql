-- The programme's id and matcher's internal id of every mentee.
SELECT external_id, id FROM mentees;

SELECT external_id FROM mentees;

SELECT external_id FROM mentors;

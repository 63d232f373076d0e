-- Active mentees to score, in id order.
SELECT id FROM mentees WHERE active ORDER BY id;

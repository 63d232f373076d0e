-- Whether any feedback row carries the mentor's answer to the request it became.
SELECT EXISTS (SELECT 1 FROM recommendation_feedback WHERE mentor_response IS NOT NULL);

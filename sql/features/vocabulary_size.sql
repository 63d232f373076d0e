-- The most distinct terms of one kind (domains, skills) in the bitmaps' vocabulary.
SELECT coalesce(max(n), 0) FROM term_vocab

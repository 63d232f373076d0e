-- Domains and skills as bitmaps over the mentors' vocabulary, so that overlaps are
-- bit_count(a & b) (core SQL since PostgreSQL 14; no extension needed): every mentor's here,
-- once per session, each build's mentees' in history_mentees.sql (a term no mentor lists
-- never overlaps; the mentee's own counts come from its arrays). All bitmaps of a kind have
-- the same length. Standard UTC offsets of time zones for the timezone feature.
CREATE TEMP TABLE mentor_terms ON COMMIT DROP AS
SELECT id, 'domain' AS kind, unnest(domains) AS term FROM mentors
UNION ALL SELECT id, 'skill', unnest(skills) FROM mentors;

CREATE TEMP TABLE term_vocab ON COMMIT DROP AS
SELECT kind, term,
       (row_number() OVER (PARTITION BY kind ORDER BY term) - 1)::int AS pos,
       count(*) OVER (PARTITION BY kind)::int AS n
FROM (SELECT DISTINCT kind, term FROM mentor_terms WHERE term IS NOT NULL) terms;
ALTER TABLE term_vocab ADD PRIMARY KEY (kind, term);

CREATE TEMP TABLE empty_bits ON COMMIT DROP AS
SELECT kinds.kind, repeat('0', coalesce(max(v.n), 1))::varbit AS zero
FROM (VALUES ('domain'), ('skill')) kinds (kind)
LEFT JOIN term_vocab v ON v.kind = kinds.kind
GROUP BY kinds.kind;

-- Each mentor's terms of a kind as one bitmap over term_vocab, in one grouped pass over
-- every mentor (those without a term of that kind get the all-zeros bitmap).
CREATE TEMP TABLE mentor_kind_bits ON COMMIT DROP AS
SELECT t.id, t.kind, bit_or(set_bit(z.zero, v.pos, 1)) AS bits
FROM mentor_terms t
JOIN term_vocab v ON v.kind = t.kind AND v.term = t.term
JOIN empty_bits z ON z.kind = t.kind
GROUP BY t.id, t.kind;

CREATE TEMP TABLE mentor_bits ON COMMIT DROP AS
SELECT m.id, coalesce(d.bits, zd.zero) AS domains, coalesce(s.bits, zs.zero) AS skills
FROM mentors m
JOIN empty_bits zd ON zd.kind = 'domain'
JOIN empty_bits zs ON zs.kind = 'skill'
LEFT JOIN mentor_kind_bits d ON d.id = m.id AND d.kind = 'domain'
LEFT JOIN mentor_kind_bits s ON s.id = m.id AND s.kind = 'skill';
ALTER TABLE mentor_bits ADD PRIMARY KEY (id);

CREATE TEMP TABLE zone_offsets ON COMMIT DROP AS
SELECT name,
       (extract(epoch FROM utc_offset)::int / 60) - CASE WHEN is_dst THEN 60 ELSE 0 END
           AS minutes
FROM pg_timezone_names;
ALTER TABLE zone_offsets ADD PRIMARY KEY (name);

-- The pairs of one build, a row per (mentee, as_of) with its mentors (no index: they are
-- only ever joined whole; pair_ids: the labelled pairs' ids, in the order of mentor_ids, NULL
-- for candidates, which their mentee and mentor tell apart): a chunk of candidates is 2,000
-- rows, not 400,000 (binary COPY of a row per pair cost 0.30 s a chunk on the medium world,
-- of arrays 0.06 s), and the (mentor, as_of) and (mentee, as_of) keys whose history it
-- needs (for candidates: every eligible mentor once per as_of, and the chunk's mentees).
CREATE TEMP TABLE feature_pairs (
    mentee_id  bigint NOT NULL,
    as_of      timestamptz NOT NULL,
    mentor_ids bigint[] NOT NULL,
    pair_ids   bigint[]
) ON COMMIT DROP;
-- (the planner needs its rows and mentees counted, not the arrays' element statistics)
ALTER TABLE feature_pairs ALTER mentor_ids SET STATISTICS 0, ALTER pair_ids SET STATISTICS 0;
CREATE TEMP TABLE feature_mentors (
    mentor_id bigint NOT NULL,
    as_of     timestamptz NOT NULL,
    PRIMARY KEY (mentor_id, as_of)
) ON COMMIT DROP;
CREATE TEMP TABLE feature_mentees (
    mentee_id bigint NOT NULL,
    as_of     timestamptz NOT NULL,
    PRIMARY KEY (mentee_id, as_of)
) ON COMMIT DROP;

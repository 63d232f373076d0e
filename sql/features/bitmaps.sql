-- Domains and skills of every person as bitmaps over one shared vocabulary, so that overlaps
-- are bit_count(a & b) (core SQL since PostgreSQL 14; no extension needed). All bitmaps of a
-- kind have the same length. Standard UTC offsets of time zones for the timezone feature.
CREATE TEMP TABLE person_terms ON COMMIT DROP AS
SELECT 'mentor' AS side, id, 'domain' AS kind, unnest(domains) AS term FROM mentors
UNION ALL SELECT 'mentor', id, 'skill', unnest(skills) FROM mentors
UNION ALL SELECT 'mentee', id, 'domain', unnest(domains) FROM mentees
UNION ALL SELECT 'mentee', id, 'skill', unnest(skills) FROM mentees;

CREATE TEMP TABLE term_vocab ON COMMIT DROP AS
SELECT kind, term,
       (row_number() OVER (PARTITION BY kind ORDER BY term) - 1)::int AS pos,
       count(*) OVER (PARTITION BY kind)::int AS n
FROM (SELECT DISTINCT kind, term FROM person_terms) terms;

CREATE TEMP TABLE empty_bits ON COMMIT DROP AS
SELECT kinds.kind, repeat('0', coalesce(max(v.n), 1))::varbit AS zero
FROM (VALUES ('domain'), ('skill')) kinds (kind)
LEFT JOIN term_vocab v ON v.kind = kinds.kind
GROUP BY kinds.kind;

-- Each person's terms of a kind as one bitmap over term_vocab, in one grouped pass over
-- everybody (people without a term of that kind get the all-zeros bitmap below).
CREATE TEMP TABLE person_bits ON COMMIT DROP AS
SELECT t.side, t.id, t.kind, bit_or(set_bit(z.zero, v.pos, 1)) AS bits
FROM person_terms t
JOIN term_vocab v ON v.kind = t.kind AND v.term = t.term
JOIN empty_bits z ON z.kind = t.kind
GROUP BY t.side, t.id, t.kind;

CREATE TEMP TABLE mentor_bits ON COMMIT DROP AS
SELECT m.id, coalesce(d.bits, zd.zero) AS domains, coalesce(s.bits, zs.zero) AS skills
FROM mentors m
JOIN empty_bits zd ON zd.kind = 'domain'
JOIN empty_bits zs ON zs.kind = 'skill'
LEFT JOIN person_bits d ON d.side = 'mentor' AND d.id = m.id AND d.kind = 'domain'
LEFT JOIN person_bits s ON s.side = 'mentor' AND s.id = m.id AND s.kind = 'skill';
ALTER TABLE mentor_bits ADD PRIMARY KEY (id);

CREATE TEMP TABLE mentee_bits ON COMMIT DROP AS
SELECT e.id, coalesce(d.bits, zd.zero) AS domains, coalesce(s.bits, zs.zero) AS skills
FROM mentees e
JOIN empty_bits zd ON zd.kind = 'domain'
JOIN empty_bits zs ON zs.kind = 'skill'
LEFT JOIN person_bits d ON d.side = 'mentee' AND d.id = e.id AND d.kind = 'domain'
LEFT JOIN person_bits s ON s.side = 'mentee' AND s.id = e.id AND s.kind = 'skill';
ALTER TABLE mentee_bits ADD PRIMARY KEY (id);

CREATE TEMP TABLE zone_offsets ON COMMIT DROP AS
SELECT name,
       (extract(epoch FROM utc_offset)::int / 60) - CASE WHEN is_dst THEN 60 ELSE 0 END
           AS minutes
FROM pg_timezone_names;
ALTER TABLE zone_offsets ADD PRIMARY KEY (name);

-- The pairs of one build (no index: they are only ever joined whole; pair_id: the labelled
-- pair's id, NULL for candidates, which their mentee and mentor tell apart) and the
-- (mentor, as_of) and (mentee, as_of) keys whose history it needs (for candidates: every
-- eligible mentor once per as_of, and the chunk's mentees).
CREATE TEMP TABLE feature_pairs (
    pair_id   bigint,
    mentee_id bigint NOT NULL,
    mentor_id bigint NOT NULL,
    as_of     timestamptz NOT NULL
) ON COMMIT DROP;
-- The planner needs to know how many pairs there are and how many distinct people they hold
-- (without statistics it guessed 1,733 of 400,000 candidate pairs on the large world and
-- probed mentor_side's index once per pair, 0.94 s a chunk instead of 0.64): a sample of
-- 3,000 rows (statistics target 10) tells it for 0.01 s, the default 30,000 cost 0.03 s.
ALTER TABLE feature_pairs ALTER pair_id SET STATISTICS 10, ALTER mentee_id SET STATISTICS 10,
    ALTER mentor_id SET STATISTICS 10, ALTER as_of SET STATISTICS 10;
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

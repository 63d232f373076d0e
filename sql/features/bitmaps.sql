-- Domains and skills of every person as bitmaps over one shared vocabulary, so that overlaps
-- are bit_count(a & b) (core SQL since PostgreSQL 14; no extension needed). All bitmaps of a
-- kind have the same length. Standard UTC offsets of time zones for the timezone feature.
CREATE TEMP TABLE term_vocab ON COMMIT DROP AS
SELECT kind, term,
       (row_number() OVER (PARTITION BY kind ORDER BY term) - 1)::int AS pos,
       count(*) OVER (PARTITION BY kind)::int AS n
FROM (SELECT 'domain' AS kind, unnest(domains) AS term FROM mentors
      UNION SELECT 'domain', unnest(domains) FROM mentees
      UNION SELECT 'skill', unnest(skills) FROM mentors
      UNION SELECT 'skill', unnest(skills) FROM mentees) terms;

CREATE TEMP TABLE empty_bits ON COMMIT DROP AS
SELECT kinds.kind, repeat('0', coalesce(max(v.n), 1))::varbit AS zero
FROM (VALUES ('domain'), ('skill')) kinds (kind)
LEFT JOIN term_vocab v ON v.kind = kinds.kind
GROUP BY kinds.kind;

-- A list of terms of one kind as a bitmap over term_vocab (all zeros for an empty list).
CREATE OR REPLACE FUNCTION pg_temp.term_bits(terms text[], term_kind text) RETURNS varbit
LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT bit_or(set_bit(repeat('0', v.n)::varbit, v.pos, 1))
         FROM unnest(terms) t JOIN term_vocab v ON v.kind = term_kind AND v.term = t),
        (SELECT zero FROM empty_bits WHERE kind = term_kind))
$$;

CREATE TEMP TABLE mentor_bits ON COMMIT DROP AS
SELECT id, pg_temp.term_bits(domains, 'domain') AS domains,
       pg_temp.term_bits(skills, 'skill') AS skills
FROM mentors;
ALTER TABLE mentor_bits ADD PRIMARY KEY (id);

CREATE TEMP TABLE mentee_bits ON COMMIT DROP AS
SELECT id, pg_temp.term_bits(domains, 'domain') AS domains,
       pg_temp.term_bits(skills, 'skill') AS skills
FROM mentees;
ALTER TABLE mentee_bits ADD PRIMARY KEY (id);

CREATE TEMP TABLE zone_offsets ON COMMIT DROP AS
SELECT name,
       (extract(epoch FROM utc_offset)::int / 60) - CASE WHEN is_dst THEN 60 ELSE 0 END
           AS minutes
FROM pg_timezone_names;
ALTER TABLE zone_offsets ADD PRIMARY KEY (name);

-- The pairs of one build (no index: they are only ever joined whole) and the (mentor, as_of)
-- keys whose history it needs (all eligible mentors once per as_of for candidates).
CREATE TEMP TABLE feature_pairs (
    pair_id   bigint NOT NULL,
    mentee_id bigint NOT NULL,
    mentor_id bigint NOT NULL,
    as_of     timestamptz NOT NULL
) ON COMMIT DROP;
CREATE TEMP TABLE feature_mentors (
    mentor_id bigint NOT NULL,
    as_of     timestamptz NOT NULL,
    PRIMARY KEY (mentor_id, as_of)
) ON COMMIT DROP;

-- The floor of the pairwise feature query (sql/features/select.sql) in PostgreSQL: the same
-- pairs, the same joins and the same columns sent by binary COPY, what the pair shares a
-- constant, so nothing is computed per pair (benchmarks/chunk_benchmark.py times both).
SELECT k.pair_id, (e.key << 32) | m.key AS pair_key, 0 AS overlaps
FROM feature_pairs p
JOIN mentee_side e ON e.mentee_id = p.mentee_id AND e.as_of = p.as_of
CROSS JOIN LATERAL unnest(p.mentor_ids, p.pair_ids) AS k (mentor_id, pair_id)
JOIN mentor_side m ON m.mentor_id = k.mentor_id AND m.as_of = p.as_of

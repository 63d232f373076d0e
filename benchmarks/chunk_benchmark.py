"""Where one chunk's time goes: seconds per chunk of 2,000 mentees for each step of scoring,
on one connection (no other work running), and the session's one-off setup.

Seeds a world in a scratch database, trains an XGBoost champion, then for the first
``--chunks`` chunks of active mentees times, with one BLAS thread as each worker of the
nightly run has (XGBoost keeps its own threads, as there): the candidate prefilter
(:meth:`matcher.candidates.Prefilter.pairs`), the features in SQL (the rest of
:meth:`matcher.features.FeatureSession.candidate_frame`: COPY of the pairs in, the
point-in-time history, the feature query and its binary COPY out), the model's predictions
and each mentee's best candidates. The first chunk also builds every eligible mentor's
history (once per night and connection); it is printed apart. Last, on the last chunk's
pairs, the pairwise feature query against its floor: the same joins and binary COPY with
every feature a constant (``benchmarks/feature_floor.sql``), what PostgreSQL costs per row
before any feature is computed.

    .venv/bin/python -m benchmarks.chunk_benchmark --scale large
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from threadpoolctl import threadpool_limits

from benchmarks.common import parse, scale_parser, scratch_database, seed_and_train
from matcher import chunks, evaluation, features, pgcopy, registry
from matcher.candidates import active_mentee_ids
from matcher.features import MAX_CANDIDATES, FeatureSession

CHUNK = 2000
REPEATS = 5


def main() -> None:
    parser = scale_parser(__doc__, "medium")
    parser.add_argument("--chunks", type=int, default=5, help="chunks timed (default 5)")
    args, n_mentors, n_mentees = parse(parser)
    with scratch_database() as url:
        engine = sa.create_engine(url)
        seed_and_train(engine, n_mentors, n_mentees)
        seconds: dict[str, float] = defaultdict(float)
        with engine.begin() as conn, threadpool_limits(1, user_api="blas"):
            model = registry.load_champion(conn).model
            mentees = active_mentee_ids(conn)
            as_of = datetime.now(UTC)
            start = time.perf_counter()
            session = FeatureSession(conn)
            setup = time.perf_counter() - start
            first = pairs = 0
            parts = [mentees[i:i + CHUNK] for i in range(0, len(mentees), CHUNK)][:args.chunks]
            for n, part in enumerate(parts):
                start = time.perf_counter()
                frame = session.candidate_frame(part, as_of, max_candidates=MAX_CANDIDATES)
                total = time.perf_counter() - start
                # the prefilter again, alone (its eligible mentors are loaded already)
                start = time.perf_counter()
                session._prefilter.pairs(part, MAX_CANDIDATES)
                prefilter = time.perf_counter() - start
                if n == 0:
                    first = total - prefilter
                else:
                    seconds["candidate prefilter"] += prefilter
                    seconds["features in SQL (pairs in, history, query, COPY out)"] += (
                        total - prefilter)
                start = time.perf_counter()
                scores = model.predict(evaluation.matrix(frame, model.features))
                if n:
                    seconds["predict"] += time.perf_counter() - start
                start = time.perf_counter()
                chunks.top_per_mentee(frame[["mentee_id", "mentor_id"]].assign(score=scores), 30)
                if n:
                    seconds["best candidates per mentee"] += time.perf_counter() - start
                    pairs += len(frame)
            query_seconds = _pair_query_against_its_floor(conn)
        engine.dispose()
    timed = len(parts) - 1
    print(f"{args.scale} ({n_mentors:,} mentors x {n_mentees:,} mentees): {timed} chunks of "
          f"{CHUNK:,} mentees timed after the first, {pairs / max(timed, 1):,.0f} pairs each")
    print(f"session setup (bitmaps, once per connection): {setup:.2f} s")
    print(f"first chunk's features, with every eligible mentor's history: {first:.2f} s")
    per_chunk = sum(seconds.values()) / max(timed, 1)
    for step, value in seconds.items():
        print(f"  {step:<56}{value / max(timed, 1):6.3f} s per chunk  "
              f"{value / max(timed, 1) / per_chunk:5.0%}")
    print(f"one chunk on one connection: {per_chunk:.2f} s, "
          f"{pairs / max(sum(seconds.values()), 1e-9):,.0f} pairs/s")
    real, floor = query_seconds
    print(f"pairwise feature query of the last chunk (best of {REPEATS}): {real:.3f} s; "
          f"the same joins and COPY with constant features: {floor:.3f} s "
          f"({floor / real:.0%} of it: PostgreSQL's cost per row, whatever is computed)")


def _pair_query_against_its_floor(conn) -> tuple[float, float]:
    """Best-of seconds of the pairwise feature query on the last chunk's pairs, and of the
    same query with every feature a constant (benchmarks/feature_floor.sql), run in turns so
    that a slow spell of the machine slows both."""
    floor = (Path(__file__).parent / "feature_floor.sql").read_text().rstrip().rstrip(";")
    queries = (features._query("features/select.sql"), floor)
    best = [float("inf")] * len(queries)
    for _ in range(REPEATS):
        for n, query in enumerate(queries):
            start = time.perf_counter()
            pgcopy.copy_out_arrays(conn, query, ["pair_key", "overlaps"], [])
            best[n] = min(best[n], time.perf_counter() - start)
    return best[0], best[1]


if __name__ == "__main__":
    main()

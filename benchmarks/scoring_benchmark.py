"""The nightly run end to end: wall time by stage, pairs scored per second, peak memory.

Seeds a world in a scratch database, trains an XGBoost champion, then runs one
``matcher score`` batch (k = 10) and prints each stage's seconds from the batch's timings,
the pairs scored per second, peak resident memory of this process, and the raw
``xgboost`` predict rate on a same-shaped random matrix (300 trees of depth 6) measured in
the same run (best of 3), as the physical limit, and the CPU seconds the run used in this
process and in the PostgreSQL server (when it runs on this machine; every database's
sessions count, so run it on an otherwise idle server) beside those that end to end at
0.4 x the raw rate would leave on this machine's cores. With ``--dask local:N`` the chunks
run on a local Dask cluster of N worker processes (``matcher score --dask``), and the line
"per worker" gives the pairs scored per second of chunk wall time per worker. With
``--nights N`` the batch is scored N times keeping one batch, so every night after the
first also prunes the one before (the "prune" line); the figures are the last night's.

    .venv/bin/python -m benchmarks.scoring_benchmark --scale medium
    .venv/bin/python -m benchmarks.scoring_benchmark --scale medium --dask local:2
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np
import sqlalchemy as sa
import xgboost as xgb

from benchmarks.common import parse, scale_parser, scratch_database, seed_and_train, timed_score
from matcher.features import FEATURES
from matcher.scoring import ScoreOptions


def raw_predict_rate(rows: int, repeats: int = 3) -> float:
    """Rows per second of XGBoost's own predict on a random matrix, best of ``repeats``."""
    rng = np.random.default_rng(0)
    X = rng.random((rows, len(FEATURES)), dtype=np.float32)
    y = (X[:, 0] + rng.random(rows) > 1).astype(int)
    booster = xgb.train({"max_depth": 6, "objective": "binary:logistic", "nthread": 2},
                        xgb.DMatrix(X[:50_000], label=y[:50_000]), num_boost_round=300)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        booster.inplace_predict(X)
        best = min(best, time.perf_counter() - start)
    return rows / best


def main() -> None:
    parser = scale_parser(__doc__, "medium")
    parser.add_argument("--workers", type=int, default=ScoreOptions.workers,
                        help="chunks scored at once, each on its own connection (default 2)")
    parser.add_argument("--objective", choices=["market", "relevance"],
                        default=ScoreOptions.objective,
                        help="market-aware lists (default) or plain per-mentee top-K")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="score the chunks on a Dask cluster (e.g. local:2)")
    parser.add_argument("--nights", type=int, default=1,
                        help="nights scored, keeping one batch (default 1: no pruning)")
    args, n_mentors, n_mentees = parse(parser)
    with scratch_database() as url:
        engine = sa.create_engine(url)
        seed_and_train(engine, n_mentors, n_mentees)
        for _ in range(args.nights):
            run = timed_score(engine, ScoreOptions(k=10, workers=args.workers,
                                                   objective=args.objective, dask=args.dask,
                                                   keep_batches=1))
        engine.dispose()
    result, wall, own, server = run.result, run.wall, run.own_cpu, run.server_cpu
    pairs = result.counts["pairs_scored"]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    raw = raw_predict_rate(min(pairs, 2_000_000))
    print(f"{args.scale} ({n_mentors:,} mentors x {n_mentees:,} mentees), objective "
          f"{args.objective}: "
          f"{result.counts['mentees']:,} active mentees, {pairs:,} pairs scored")
    print(f"wall time {wall:.1f} s, {pairs / wall:,.0f} pairs scored/s end to end, "
          f"peak memory {peak_mb:,.0f} MB")
    per_mentee_ms = 1000 * wall / result.counts["mentees"]
    print(f"{per_mentee_ms:.2f} ms per active mentee; chunks scored by {args.workers} workers "
          f"(candidates, features, predict, top-K add up over workers; chunks_wall is their "
          f"wall time)")
    for stage, seconds in result.timings.items():
        print(f"  {stage:<26}{seconds:>7.1f} s  {seconds / wall:>5.0%} of wall")
    print(f"raw xgboost predict on a same-shaped matrix: {raw:,.0f} rows/s; "
          f"end to end / raw = {pairs / wall / raw:.2f}")
    cores = os.cpu_count()
    target = pairs / (0.4 * raw)
    on_server = (f", PostgreSQL {server:.1f} s" if server is not None
                 else " (PostgreSQL on another machine: not counted)")
    print(f"CPU: this process {own:.1f} s{on_server}"
          + f", {(own + (server or 0)) / wall:.2f} of {cores} cores busy over the wall time; "
          f"end to end = 0.4 x raw would mean {target:.1f} s of wall time, "
          f"{cores * target:.1f} CPU seconds on {cores} cores")
    workers = int(args.dask.split(":")[1]) if args.dask and args.dask.startswith(
        "local:") else args.workers
    chunk_wall = result.timings.get("chunks_wall", wall)
    print(f"per worker: {pairs / chunk_wall / workers:,.0f} pairs scored/s of chunk wall time "
          f"({workers} {'Dask worker processes' if args.dask else 'threads'}, chunks wall "
          f"{chunk_wall:.1f} s)")
    print("exposure: " + ", ".join(f"{k} {result.counts[k]}" for k in (
        "mentors_recommended_share", "mentor_appearances_gini", "max_lists_per_mentor")))


if __name__ == "__main__":
    main()

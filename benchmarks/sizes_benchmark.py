"""Does the nightly run keep its rate as the world grows? Two sizes scored in turns, in one run.

Runs of one size differ by 10 % or more on this machine, within a day and more between days,
so a rate measured in one run and compared with another size's rate from a second run says
little. This benchmark seeds both worlds (each in a scratch database, an XGBoost champion
trained on each) and then scores them in turns, ``--rounds`` times, in the order small
size, large size, then large, small, and so on (each round reverses the one before, so a
machine that speeds up or slows down during the run weighs on both sizes alike). Each run is
one ``matcher score`` batch (k = 10, exploration off, one batch kept: every run after a
world's first also prunes its batch before). It prints each run's pairs scored per second
end to end (with the wall seconds of its main stages), and per round the larger world's
rate over the smaller's; the last line gives their median and range: 1.00 or more means
the rate is no lower at the larger size.

    .venv/bin/python -m benchmarks.sizes_benchmark                      # medium vs large
    .venv/bin/python -m benchmarks.sizes_benchmark --sizes small medium --rounds 2
"""

from __future__ import annotations

import argparse
import logging
import statistics
from contextlib import ExitStack

import sqlalchemy as sa

from benchmarks.common import TimedRun, scratch_database, seed_and_train, timed_score
from matcher.scoring import ScoreOptions
from matcher.synthetic.seed import PRESETS

#: The stages of a run whose wall time each run's line shows (those it had).
STAGES = ("chunks_wall", "market", "explain_and_write_wall", "publish", "prune")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs=2, choices=list(PRESETS), default=["medium", "large"],
                        metavar="SCALE", help="the two seeder presets compared, smaller first "
                        "(default: medium large)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="runs of each size (default 3)")
    parser.add_argument("--objective", choices=["market", "relevance"], default="relevance",
                        help="plain per-mentee top-K (default) or market-aware lists")
    parser.add_argument("--workers", type=int, default=ScoreOptions.workers,
                        help="chunks scored at once, each on its own connection (default 2)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    options = ScoreOptions(k=10, workers=args.workers, objective=args.objective,
                           keep_batches=1)
    with ExitStack() as stack:
        engines = {}
        for size in args.sizes:
            engine = sa.create_engine(stack.enter_context(scratch_database()))
            stack.callback(engine.dispose)
            print(f"seeding {size} {PRESETS[size][0]:,} mentors x {PRESETS[size][1]:,} mentees "
                  "and training its champion", flush=True)
            seed_and_train(engine, *PRESETS[size])
            engines[size] = engine
        runs: dict[str, list[TimedRun]] = {size: [] for size in args.sizes}
        for round_ in range(args.rounds):
            for size in args.sizes[::-1] if round_ % 2 else args.sizes:
                run = timed_score(engines[size], options)
                runs[size].append(run)
                stages = ", ".join(f"{stage} {run.result.timings[stage]:.1f}"
                                   for stage in STAGES if stage in run.result.timings)
                print(f"round {round_ + 1} {size:<7} {run.wall:6.1f} s  "
                      f"{run.result.counts['pairs_scored']:>11,} pairs  "
                      f"{run.pairs_per_second:>9,.0f} pairs/s  CPU {run.own_cpu:.1f} s"
                      + ("" if run.server_cpu is None else
                         f" + PostgreSQL {run.server_cpu:.1f} s") + f"  ({stages} s)",
                      flush=True)
    small, large = args.sizes
    ratios = [b.pairs_per_second / a.pairs_per_second
              for a, b in zip(runs[small], runs[large], strict=True)]
    print(f"{large} / {small} pairs scored per second, per round: "
          + ", ".join(f"{r:.3f}" for r in ratios))
    print(f"median {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})"
          f" over {args.rounds} rounds, objective {args.objective}, {args.workers} workers")


if __name__ == "__main__":
    main()

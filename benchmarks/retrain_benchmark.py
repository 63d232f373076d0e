"""The feedback loop, night by night: score -> simulated feedback -> retrain.

Seeds a world in a scratch database, trains a first logistic champion on the seeded history
only (``matcher train``; with ``--weak-start``, one trained on shuffled labels), then runs
``--nights`` nights. Each night prints the feedback
rows, the retrain decision, the champion's oracle efficiency on 300 sampled active mentees,
and the seconds of each step.

    .venv/bin/python -m benchmarks.retrain_benchmark --scale small --nights 4
    .venv/bin/python -m benchmarks.retrain_benchmark --scale small --nights 3 --weak-start
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from benchmarks.common import parse, scale_parser, scratch_database
from matcher import evaluation, registry
from matcher.algorithms import ALGORITHMS
from matcher.clock import Clock
from matcher.features import FEATURES, FeatureSession
from matcher.retraining import retrain
from matcher.scoring import ScoreOptions, score
from matcher.synthetic import oracle
from matcher.synthetic.seed import seed_database
from matcher.synthetic.simulated_feedback import simulate
from matcher.training import train


def champion_efficiency(engine) -> tuple[int, float]:
    with engine.begin() as conn:
        champion = registry.load_champion(conn)
        truth = oracle.oracle_sample(FeatureSession(conn), conn, datetime.now(UTC), 300)
    scores = evaluation.model_scorer(champion.model)(truth.frame)
    return champion.version_id, truth.evaluate(scores)["oracle_efficiency"]


def weak_champion(engine, algorithm: str) -> None:
    """A deliberately weak first champion: trained on the seeded history with shuffled
    labels."""
    with engine.begin() as conn:
        split = evaluation.time_split(evaluation.labelled_pairs(FeatureSession(conn)))
        shuffled = split.train.assign(
            label=np.random.default_rng(0).permutation(split.train["label"].to_numpy()))
        model = ALGORITHMS[algorithm](list(FEATURES))
        evaluation.fit(model, shuffled)
        version = registry.register(conn, model, row_counts={}, metrics={},
                                    training_window={"trained_before": split.cutoff.isoformat()})
        registry.promote(conn, version, "benchmark: deliberately weak first champion",
                         forced=True)


def main() -> None:
    parser = scale_parser(__doc__, "small")
    parser.add_argument("--nights", type=int, default=4)
    parser.add_argument("--algorithm", default="logistic")
    parser.add_argument("--weak-start", action="store_true",
                        help="start from a champion trained on shuffled labels")
    args, n_mentors, n_mentees = parse(parser)
    with scratch_database() as url:
        engine = sa.create_engine(url)
        seed_database(engine, n_mentors, n_mentees, 42, datetime.now(UTC), replace=False)
        if args.weak_start:
            weak_champion(engine, args.algorithm)
        else:
            train(engine, [args.algorithm], oracle_source=oracle.source(300))
        version, efficiency = champion_efficiency(engine)
        print(f"{args.scale} ({n_mentors:,} mentors x {n_mentees:,} mentees), "
              f"{args.algorithm}: first champion v{version}"
              f"{' (trained on shuffled labels)' if args.weak_start else ''}, "
              f"oracle efficiency {efficiency:.4f}")
        for night in range(1, args.nights + 1):
            seconds: dict[str, float] = {}
            clock = Clock(seconds)
            with clock("score"):
                score(engine, ScoreOptions())
            with clock("simulate"):
                answered = simulate(engine)
            with clock("retrain"):
                run = retrain(engine, oracle_source=oracle.source(300))
            version, efficiency = champion_efficiency(engine)
            print(f"night {night}: {answered.rows:,} feedback rows {answered.actions}; "
                  f"{run.outcome}; champion v{version} oracle efficiency {efficiency:.4f}; "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
            print(f"  {run.decision}")
            print("  position-bias weights by rank: " + ", ".join(
                f"{rank}: {1 / p:.2f}" for rank, p in sorted(run.propensity.items())))
        engine.dispose()


if __name__ == "__main__":
    main()

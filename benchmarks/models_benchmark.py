"""Training time per algorithm and scoring throughput, against raw XGBoost predict.

Seeds a world in a scratch database, runs the training of every algorithm (as
``matcher train`` does), builds candidate features for 2,000 active mentees, and times each
model's ``predict`` from that feature matrix to scores. The physical limit printed beside
it is ``xgboost.Booster.inplace_predict`` of a 300-tree, depth-6 booster on the same matrix.

    .venv/bin/python -m benchmarks.models_benchmark --scale medium
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
import xgboost as xgb

from benchmarks.common import parse, scale_parser, scratch_database
from matcher import evaluation
from matcher.algorithms import ALGORITHMS
from matcher.candidates import active_mentee_ids
from matcher.features import FEATURES, FeatureSession
from matcher.synthetic.seed import seed_database

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _rate(predict, X: np.ndarray, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        predict(X)
        best = min(best, time.perf_counter() - start)
    return len(X) / best


def main() -> None:
    parser = scale_parser(__doc__, "medium")
    args, n_mentors, n_mentees = parse(parser)
    with scratch_database() as url:
        engine = sa.create_engine(url)
        seed_database(engine, n_mentors, n_mentees, 42, AS_OF, replace=False)
        with engine.begin() as conn:
            session = FeatureSession(conn)
            split = evaluation.time_split(evaluation.labelled_pairs(session))
            mentees = active_mentee_ids(conn)[:2000]
            candidates = session.candidate_frame(mentees, AS_OF)
        engine.dispose()
    X = evaluation.matrix(candidates)
    y = split.train["label"].to_numpy()
    raw = xgb.train({"max_depth": 6, "objective": "binary:logistic", "nthread": 2},
                    xgb.DMatrix(evaluation.matrix(split.train), label=y), num_boost_round=300)
    raw_rate = _rate(raw.inplace_predict, X)
    print(f"{args.scale}: {len(split.train):,} training pairs, scoring matrix "
          f"{X.shape[0]:,} x {X.shape[1]} (candidates of {len(mentees):,} mentees)")
    print(f"raw xgboost inplace_predict (300 trees, depth 6): {raw_rate:,.0f} pairs/s")
    print(f"{'algorithm':<16}{'train s':>9}{'predict pairs/s':>17}{'vs raw':>8}")
    for name, cls in ALGORITHMS.items():
        model = cls(list(FEATURES))
        seconds = evaluation.fit(model, split.train)
        rate = _rate(model.predict, X)
        print(f"{name:<16}{seconds:>9.1f}{rate:>17,.0f}{rate / raw_rate:>8.2f}")


if __name__ == "__main__":
    main()

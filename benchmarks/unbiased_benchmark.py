"""Position bias, three ways: which learner turns biased feedback into the best lists?

Seeds a world, makes a deliberately weak champion (shuffled labels), and runs ``--nights``
nights of score -> the seeded people answer (no retrain, so the feedback is what a weak
model's lists collected). Then, on the same labelled data, trains:

* **xgboost, unweighted**: answered feedback and ended interactions, every row weight 1;
* **xgboost, IPW** (what ``matcher retrain`` does): the same rows, each answered feedback
  row weighted by 1 / P(its rank is looked at) (:mod:`matcher.examination`);
* **xgboost lambdarank_unbiased** (XGBoost's unbiased LambdaMART, which learns position
  bias jointly): one query per shown list, every shown row in rank order, accepted = 1 and
  declined or ignored = 0, ended interactions as their own queries per mentee;

and prints each one's oracle efficiency (true success of its top 10 over the best possible
top 10, 300 sampled active mentees) and training seconds, measured in the same run.

    .venv/bin/python -m benchmarks.unbiased_benchmark --scale small --nights 2
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa
import xgboost as xgb

from benchmarks.common import parse, scale_parser, scratch_database
from benchmarks.retrain_benchmark import weak_champion
from matcher import evaluation, examination
from matcher.algorithms import PARAMETERS, XGBoostModel
from matcher.features import FEATURES, FeatureSession
from matcher.retraining import weighted
from matcher.scoring import ScoreOptions, score
from matcher.synthetic import oracle
from matcher.synthetic.seed import seed_database
from matcher.synthetic.simulated_feedback import simulate


def unbiased_ranker(session: FeatureSession) -> tuple[xgb.Booster, float]:
    """LambdaMART with position debiasing on every shown row, in rank order per list."""
    shown = session.feedback_frame()
    shown = shown[shown["batch_id"].notna()].assign(label=lambda f: f["accepted"])
    ended = session.training_frame()
    ended = ended[ended["success"].notna()].assign(label=lambda f: f["success"].astype(int))
    shown = shown.sort_values(["batch_id", "mentee_id", "rank"])
    ended = ended.sort_values(["mentee_id", "as_of"])
    query = np.r_[shown.groupby(["batch_id", "mentee_id"]).ngroup().to_numpy(),
                  shown.groupby(["batch_id", "mentee_id"]).ngroups
                  + ended.groupby("mentee_id").ngroup().to_numpy()]
    X = np.vstack([shown[list(FEATURES)].to_numpy(np.float32),
                   ended[list(FEATURES)].to_numpy(np.float32)])
    y = np.r_[shown["label"].to_numpy(), ended["label"].to_numpy()]
    parameters = {**PARAMETERS["xgboost_ranker"], "lambdarank_unbiased": True,
                  "lambdarank_num_pair_per_sample": 8, "lambdarank_pair_method": "topk"}
    started = time.perf_counter()
    model = xgb.XGBRanker(**parameters)
    model.fit(X, y, qid=query)
    return model.get_booster(), time.perf_counter() - started


def main() -> None:
    parser = scale_parser(__doc__, "small")
    parser.add_argument("--nights", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42, help="the seeded world")
    args, n_mentors, n_mentees = parse(parser)
    with scratch_database() as url:
        engine = sa.create_engine(url)
        seed_database(engine, n_mentors, n_mentees, args.seed, datetime.now(UTC), replace=False)
        weak_champion(engine, "logistic")
        for _ in range(args.nights):
            score(engine, ScoreOptions(explore=0.1))
            simulate(engine)
        with engine.begin() as conn:
            session = FeatureSession(conn)
            pairs = evaluation.labelled_pairs(session)
            truth = oracle.oracle_sample(session, conn, datetime.now(UTC), 300)
            examine = examination.estimate(conn, datetime.now(UTC), 100)
            booster, unbiased_seconds = unbiased_ranker(session)
        propensity = examination.propensities(examine, range(1, 101), 0.1)
        rows = []
        for name, frame in (("xgboost, unweighted", pairs),
                            ("xgboost, IPW (matcher retrain)",
                             weighted(pairs, propensity, 0.1))):
            model = XGBoostModel(list(FEATURES))
            seconds = evaluation.fit(model, frame)
            scores = evaluation.model_scorer(model)(truth.frame)
            rows.append((name, truth.evaluate(scores)["oracle_efficiency"], seconds))
        scores = booster.predict(xgb.DMatrix(truth.frame[list(FEATURES)].to_numpy(np.float32)))
        rows.append(("xgboost lambdarank_unbiased", truth.evaluate(scores)["oracle_efficiency"],
                     unbiased_seconds))
        feedback_rows = int((pairs["source"] == "feedback").sum())
        engine.dispose()
    print(f"{args.scale} ({n_mentors:,} mentors x {n_mentees:,} mentees), {args.nights} "
          f"nights of feedback on a weak champion's lists: {len(pairs):,} labelled pairs "
          f"({feedback_rows:,} answered feedback rows)")
    print(f"{'learner':<34} {'oracle efficiency':>17} {'train s':>8}")
    for name, value, seconds in rows:
        print(f"{name:<34} {value:>17.4f} {seconds:>8.1f}")
    print("examination estimate by rank 1..10: "
          + ", ".join(f"{e:.3f}" for e in examine[:10]))


if __name__ == "__main__":
    main()

"""The feedback loop, night by night: score -> simulated feedback -> retrain, judged by the
synthetic world's truth.

Seeds a world in a scratch database and makes a first champion: ``matcher train`` on the
seeded history (all algorithms, the best promoted), or with ``--weak-start`` one trained on
shuffled labels, or with ``--thin`` a new programme's thin history (every current pairing
but only a tenth of the ended ones, no logged feedback) before ``matcher train``. Then
``--nights`` nights of: score (``--objective``, exploration from night 2) -> the seeded
people answer -> retrain. Each night prints:

* the retrain decision, the challenger, and the champion's oracle efficiency (true success
  of its top 10 over the best possible top 10, 300 sampled active mentees) before and
  after, flagging any promotion of a model that is worse by the truth;
* the examination estimate against the seeder's true 1/log2(r+1) (mean and largest error);
* the off-policy estimate (DR) of champion and challenger against the truth of the same
  lists (what the simulated people accept from them, in expectation), as a relative error;
* with the market objective, the published batch's expected successful mentorships in the
  market simulator and its share of the planner's bound;
* seconds of each step.

    .venv/bin/python -m benchmarks.retrain_benchmark --scale small --nights 5 --weak-start
    .venv/bin/python -m benchmarks.retrain_benchmark --scale small --nights 3 --thin
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from benchmarks.common import parse, scale_parser, scratch_database
from matcher import evaluation, examination, registry
from matcher.algorithms import ALGORITHMS
from matcher.clock import Clock
from matcher.features import FEATURES, FeatureSession
from matcher.retraining import retrain
from matcher.scoring import ScoreOptions, score
from matcher.settings import get_settings
from matcher.synthetic import oracle
from matcher.synthetic.market import evaluate_published
from matcher.synthetic.seed import ACCEPT_BOOST, examination_probability, seed_database
from matcher.synthetic.simulated_feedback import simulate
from matcher.synthetic.truth import TruthModel
from matcher.training import train

#: Share of the ended interactions a thin-history programme keeps.
THIN_SHARE = 0.1


def efficiency(engine, model) -> float:
    """Oracle efficiency of ``model`` on the (fixed) oracle sample of 300 active mentees."""
    with engine.begin() as conn:
        truth = oracle.oracle_sample(FeatureSession(conn), conn, datetime.now(UTC), 300)
    return truth.evaluate(evaluation.model_scorer(model)(truth.frame))["oracle_efficiency"]


def champion(engine):
    with engine.begin() as conn:
        return registry.load_champion(conn)


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


def thin_history(engine) -> None:
    """What a new programme brings: all current pairings, a tenth of the ended ones, no
    feedback."""
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM recommendation_feedback"))
        conn.execute(sa.text(
            "DELETE FROM interactions WHERE status <> 'active' "
            "AND abs(hashtext(id::text)) % 1000 >= :keep"), {"keep": int(THIN_SHARE * 1000)})


def true_value(truth: TruthModel, lists) -> float:
    """Expected accepted recommendations per list when the seeded people read ``lists``:
    rank r is looked at with 1/log2(r+1), a looked-at one accepted with min(1, 1.2 p)."""
    _, p = truth.pair_values(lists["mentee_id"], lists["mentor_id"])
    value = examination_probability(lists["rank"].to_numpy()) * np.minimum(1, ACCEPT_BOOST * p)
    return float(value.sum() / lists.groupby(["batch_id", "mentee_id"]).ngroups)


def main() -> None:
    parser = scale_parser(__doc__, "small")
    parser.add_argument("--nights", type=int, default=5)
    parser.add_argument("--algorithm", default="logistic",
                        help="the weak first champion's algorithm (--weak-start)")
    start = parser.add_mutually_exclusive_group()
    start.add_argument("--weak-start", action="store_true",
                       help="start from a champion trained on shuffled labels")
    start.add_argument("--thin", action="store_true",
                       help="start from a new programme's thin history")
    parser.add_argument("--objective", choices=["market", "relevance"], default="market")
    args, n_mentors, n_mentees = parse(parser)
    with scratch_database() as url:
        engine = sa.create_engine(url)
        seed_database(engine, n_mentors, n_mentees, 42, datetime.now(UTC), replace=False)
        if args.thin:
            thin_history(engine)
        if args.weak_start:
            weak_champion(engine, args.algorithm)
        else:
            train(engine, list(ALGORITHMS), oracle_source=oracle.source(300))
        truth = TruthModel.from_database(engine)
        first = champion(engine)
        start_kind = ("trained on shuffled labels" if args.weak_start else
                      "matcher train on a thin history" if args.thin else "matcher train")
        print(f"{args.scale} ({n_mentors:,} mentors x {n_mentees:,} mentees), objective "
              f"{args.objective}: first champion v{first.version_id} ({first.algorithm}, "
              f"{start_kind}), oracle efficiency {efficiency(engine, first.model):.4f}")
        true_exam = examination_probability(np.arange(1, 11))
        for night in range(1, args.nights + 1):
            seconds: dict[str, float] = {}
            clock = Clock(seconds)
            before = champion(engine)
            with clock("score"):
                batch = score(engine, ScoreOptions(objective=args.objective,
                                                   explore=get_settings().explore))
            market_line = ""
            if args.objective == "market":
                with clock("market simulation"):
                    report = evaluate_published(engine, runs=5)
                o = report.outcome
                market_line = (f"; expected successful mentorships {o.expected_successes:,.1f}"
                               f" = {o.expected_successes / report.planner_bound:.2f} of the "
                               f"bound {report.planner_bound:,.1f}")
            with clock("simulate"):
                answered = simulate(engine)
            with clock("retrain"):
                run = retrain(engine, oracle_source=oracle.source(300))
            after = champion(engine)
            old, new = efficiency(engine, before.model), efficiency(engine, after.model)
            worse = " WORSE BY THE TRUTH" if after.version_id != before.version_id and (
                new < old) else ""
            with engine.connect() as conn:
                estimated = examination.estimate(conn, datetime.now(UTC), 10)
            error = np.abs(estimated - true_exam)
            print(f"night {night}: batch {batch.batch_id} ({batch.counts.get('explored', 0):,} "
                  f"explored slots){market_line}; {answered.rows:,} feedback rows "
                  f"{answered.actions}")
            print(f"  {run.outcome} ({run.challenger_name}): champion v{after.version_id} "
                  f"({after.algorithm}) oracle efficiency {old:.4f} -> {new:.4f}{worse}")
            print(f"  {run.decision[:300]}")
            print(f"  examination estimate vs truth by rank 1..10: mean error "
                  f"{error.mean():.3f}, largest {error.max():.3f} "
                  f"(estimated {np.round(estimated, 3).tolist()})")
            if run.off_policy is not None:
                parts = []
                for name, estimate in run.off_policy.estimates.items():
                    actual = true_value(truth, run.off_policy.lists[name])
                    parts.append(f"{name} {estimate.dr:.3f} [{estimate.dr_low:.3f}, "
                                 f"{estimate.dr_high:.3f}] vs truth {actual:.3f} "
                                 f"({estimate.dr / actual - 1:+.1%}, support "
                                 f"{estimate.support:.0%})")
                print("  off-policy accepted per list (DR): " + "; ".join(parts))
            else:
                print("  off-policy: no logged feedback since the holdout cutoff")
            print("  seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items()))
        engine.dispose()


if __name__ == "__main__":
    main()

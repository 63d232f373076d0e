"""Lists that form mentorships: the seeded people use the published lists in the market
simulator (matcher/synthetic/market.py), for each list policy, against the planner's bound.

Seeds a world, trains the success model (XGBoost) and, with --acceptance, an acceptance
model, then publishes and simulates:

* relevance: each mentee's top K by the model's P(success) (``--objective relevance``);
* market: congestion-aware lists (``--objective market``, the default);
* references with perfect knowledge (the seeder's true probabilities over each mentee's 50
  best candidates by true P(success)): per-mentee top K by true P(success), and the market
  step fed the true probabilities.

Prints expected successful mentorships, share of the planner's bound, matches, seats filled,
requests hitting a full mentor, the most lists of one mentor, and the market step's share
of the nightly wall time. Also, per policy, the mean true P(accept) of the requests that
found a free seat, and the least share of requests that must then hit a full mentor
("floor": the seats take in at most seats / P(accept) requests), beside the P(accept) at
which only half of the requests would hit a full mentor. Run:
python -m benchmarks.market_benchmark --scale medium
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from benchmarks.common import parse, scale_parser, scratch_database
from matcher import market
from matcher.db import make_engine, sql
from matcher.scoring import ScoreOptions, score
from matcher.synthetic import oracle
from matcher.synthetic.market import bound_for, evaluate_published, simulate
from matcher.synthetic.seed import examination_probability, seed_database
from matcher.synthetic.truth import TruthModel
from matcher.training import train

POOL = 50
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


def _perfect_knowledge(engine, k: int, examine: np.ndarray) -> dict[str, pd.DataFrame]:
    truth = TruthModel.from_database(engine)
    with engine.connect() as conn:
        seats = dict(conn.execute(sql("synthetic/published_seats.sql")).all())
        mentees = np.array(sorted(set(pd.read_sql(sql("synthetic/published_lists.sql"), conn)
                                      ["mentee_id"])))
    mentor_ids = np.array(sorted(seats))
    columns = pd.Index(truth.mentors.ids).get_indexer(mentor_ids)
    parts = []
    for lo in range(0, len(mentees), 2000):
        rows = truth.rows_of(mentees[lo:lo + 2000])
        accept = truth.acceptance_probability(rows)[:, columns]
        success = truth.probability(rows)[:, columns]
        top = np.argsort(-success, axis=1)[:, :POOL]
        parts.append(pd.DataFrame({
            "mentee_id": np.repeat(mentees[lo:lo + 2000], top.shape[1]),
            "mentor_id": mentor_ids[top].ravel(),
            "p_accept": np.take_along_axis(accept, top, 1).ravel(),
            "p_success": np.take_along_axis(success, top, 1).ravel()}))
    pool = pd.concat(parts, ignore_index=True)
    relevance = pool.sort_values(["mentee_id", "p_success"], ascending=[True, False])
    relevance = relevance.groupby("mentee_id").head(k).copy()
    relevance["rank"] = relevance.groupby("mentee_id").cumcount() + 1
    lists = market.market_lists(pool, seats, k, examine).chosen
    return {"perfect relevance": relevance, "perfect market": lists, "_seats": seats}


def main() -> None:
    parser = scale_parser(__doc__, "medium")
    parser.add_argument("--runs", type=int, default=20, help="simulation runs per policy")
    parser.add_argument("--acceptance", action="store_true",
                        help="also train an acceptance model (else P(accept) is each "
                             "mentor's smoothed acceptance rate)")
    args, n_mentors, n_mentees = parse(parser)
    with scratch_database():
        engine = make_engine()
        seed_database(engine, n_mentors, n_mentees, 42, AS_OF, replace=False)
        train(engine, ["xgboost"], oracle_source=oracle.source(300))
        if args.acceptance:
            train(engine, ["xgboost"], target="acceptance")
        rows = []
        examine = examination_probability(np.arange(1, 11))
        for objective in ("relevance", "market"):
            result = score(engine, ScoreOptions(objective=objective))
            started = time.perf_counter()
            report = evaluate_published(engine, runs=args.runs, examine=examine)
            wall = sum(result.timings.get(s, 0.0) for s in (
                "chunks_wall", "market", "explain_and_write_wall", "publish"))
            rows.append((objective, report.outcome.as_dict(), report.planner_bound,
                         result.timings.get("market", 0.0) / max(wall, 1e-9),
                         time.perf_counter() - started))
        references = _perfect_knowledge(engine, 10, examine)
        seats = references.pop("_seats")
        truth = TruthModel.from_database(engine)
        for name, lists in references.items():
            accept, success = truth.pair_values(lists["mentee_id"], lists["mentor_id"])
            outcome = simulate(lists.assign(p_accept=accept, p_success=success), seats,
                               examine, args.runs)
            rows.append((name, outcome.as_dict(), rows[0][2], float("nan"), 0.0))
        bound = bound_for(truth, lists["mentee_id"].unique(), seats)
    print(f"{args.scale} ({n_mentors:,} mentors x {n_mentees:,} mentees): "
          f"{sum(seats.values()):,} free seats, planner's bound {bound:,.1f}")
    plain = rows[0][1]["expected_successful_mentorships"]
    print(f"{'lists':<20} {'successes':>9} {'/bound':>6} {'/relevance':>10} {'matches':>8} "
          f"{'seats':>6} {'to full':>7} {'floor':>6} {'P(acc)':>6} {'50% needs':>9} "
          f"{'most lists':>10} {'market step':>11}")
    total_seats = sum(seats.values())
    for name, o, _, share, _ in rows:
        value = o["expected_successful_mentorships"]
        print(f"{name:<20} {value:>9,.1f} {value / bound:>6.2f} {value / plain:>10.2f} "
              f"{o['matches']:>8,.1f} {o['seats_filled_share']:>6.0%} "
              f"{o['requests_to_full_mentors_share']:>7.0%} "
              f"{o['least_share_to_full']:>6.0%} {o['accept_when_free']:>6.2f} "
              f"{total_seats / (0.5 * o['requests']):>9.2f} "
              f"{o['max_lists_per_mentor']:>6,} ({o['seats_of_that_mentor']}) "
              f"{'' if share != share else f'{share:.0%} of wall':>11}")


if __name__ == "__main__":
    main()

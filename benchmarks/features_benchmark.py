"""Feature and candidate-generation speed, and candidate recall against the oracle.

For each scale: seeds a world in a scratch database, then measures training features (all
interactions), feedback features, and candidate features for all active mentees (pairs/s,
by stage), and candidate recall = share of each active mentee's exhaustive oracle top-10
(true probability over all eligible mentors) that candidate generation keeps.

    .venv/bin/python -m benchmarks.features_benchmark --scales small medium
"""

from __future__ import annotations

import argparse
import logging
import time
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from benchmarks.common import scratch_database
from matcher.candidates import Prefilter, active_mentee_ids
from matcher.features import PRIOR_PARAMETERS, FeatureSession
from matcher.synthetic.seed import PRESETS, seed_database
from matcher.synthetic.truth import TruthModel

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
CHUNK = 2000


def _recall(engine, candidates: dict[int, set[int]], k: int = 10) -> float:
    truth = TruthModel.from_database(engine)
    with engine.connect() as conn:
        eligible = Prefilter(conn, AS_OF, PRIOR_PARAMETERS).mentor_ids
        requested = {}
        for mentee, mentor in conn.execute(sa.text(
                "SELECT mentee_id, mentor_id FROM interactions")).all():
            requested.setdefault(mentee, set()).add(mentor)
    mentor_col = {int(m): i for i, m in enumerate(truth.mentors.ids)}
    columns = np.array([mentor_col[int(m)] for m in eligible])
    kept = total = 0
    mentees = list(candidates)
    for start in range(0, len(mentees), 500):
        chunk = mentees[start:start + 500]
        probabilities = truth.probability(truth.rows_of(chunk))[:, columns]
        for row, mentee in enumerate(chunk):
            allowed = ~np.isin(eligible, list(requested.get(mentee, ())))
            ids, p = eligible[allowed], probabilities[row, allowed]
            top = ids[np.argsort(-p, kind="stable")[:k]]
            kept += len(set(top.tolist()) & candidates[mentee])
            total += len(top)
    return kept / total


def run(scale: str) -> None:
    n_mentors, n_mentees = PRESETS[scale]
    with scratch_database() as url:
        engine = sa.create_engine(url)
        seed_database(engine, n_mentors, n_mentees, 42, AS_OF, replace=False)
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        with engine.begin() as conn:
            start = time.perf_counter()
            session = FeatureSession(conn)
            prepare = time.perf_counter() - start
            start = time.perf_counter()
            training = session.training_frame()
            t_training = time.perf_counter() - start
            start = time.perf_counter()
            feedback = session.feedback_frame()
            t_feedback = time.perf_counter() - start
            mentees = active_mentee_ids(conn)
            start = time.perf_counter()
            candidates: dict[int, set[int]] = {}
            pairs = 0
            for lo in range(0, len(mentees), CHUNK):
                frame = session.candidate_frame(mentees[lo:lo + CHUNK], AS_OF)
                pairs += len(frame)
                for mentee, group in frame.groupby("mentee_id")["mentor_id"]:
                    candidates[int(mentee)] = set(group.tolist())
            t_candidates = time.perf_counter() - start
        recall = _recall(engine, candidates)
        engine.dispose()
    print(f"{scale} ({n_mentors:,} mentors x {n_mentees:,} mentees)")
    print(f"  prepare bitmaps            {prepare:6.1f} s")
    print(f"  training features  {len(training):>10,} pairs {t_training:6.1f} s "
          f"{len(training) / t_training:>10,.0f} pairs/s")
    print(f"  feedback features  {len(feedback):>10,} pairs {t_feedback:6.1f} s "
          f"{len(feedback) / t_feedback:>10,.0f} pairs/s")
    print(f"  candidate features {pairs:>10,} pairs {t_candidates:6.1f} s "
          f"{pairs / t_candidates:>10,.0f} pairs/s "
          f"({pairs / len(mentees):.0f} candidates per active mentee, {len(mentees):,} mentees)")
    print(f"  candidate recall of the exhaustive oracle top-10: {recall:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", choices=list(PRESETS), default=["small", "medium"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for scale in args.scales:
        run(scale)


if __name__ == "__main__":
    main()

"""The oracle on synthetic worlds: every eligible mentor of a sample of active mentees, with
the seeder's true success probability of each pair, to judge models against the best
possible lists (:class:`matcher.evaluation.OracleSample`)."""

from __future__ import annotations

from datetime import datetime
from functools import partial

import pandas as pd
from sqlalchemy import Connection

from matcher.db import sql
from matcher.evaluation import OracleSample, OracleSource, sample_mentees
from matcher.features import FeatureSession


def oracle_sample(session: FeatureSession, conn: Connection, as_of: datetime,
                  n_mentees: int = 300, seed: int = 0) -> OracleSample | None:
    """``None`` unless the database holds a seeded world."""
    if conn.execute(sql("synthetic/truth/world.sql")).scalar_one_or_none() is None:
        return None
    from matcher.synthetic.truth import TruthModel

    sample = sample_mentees(conn, n_mentees, seed)
    frame = session.candidate_frame(sample.tolist(), as_of, max_candidates=1_000_000)
    frame = frame.sort_values(["mentee_id", "mentor_id"], ignore_index=True)
    truth = TruthModel.from_database(conn.engine)
    mentor_column = pd.Index(truth.mentors.ids).get_indexer(frame["mentor_id"])
    probabilities = truth.probability(truth.rows_of(sample))
    row_of = {int(m): r for r, m in enumerate(sample)}
    rows = frame["mentee_id"].map(row_of).to_numpy()
    return OracleSample(frame, probabilities[rows, mentor_column])


def source(n_mentees: int = 300) -> OracleSource:
    """What training and retraining call to get the oracle sample (``None`` on a
    programme's own data)."""
    return partial(oracle_sample, n_mentees=n_mentees)

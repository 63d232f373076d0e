"""Synthetic worlds: the seeded people answer the published batch (``matcher
simulate-feedback``), so the loop score -> feedback -> retrain runs without real users."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from matcher.db import sql
from matcher.errors import MatcherError
from matcher.pgcopy import copy_frame
from matcher.synthetic.seed import ACCEPT_BOOST, DECLINE_SHARE, examination_probability
from matcher.synthetic.truth import TruthModel

log = logging.getLogger(__name__)


@dataclass
class SimulatedFeedback:
    batch_id: int
    rows: int
    actions: dict[str, int]


def simulate(engine: Engine, seed: int | None = None, now: datetime | None = None
             ) -> SimulatedFeedback:
    """Play the synthetic world's people against the published batch.

    Each recommendation is looked at with probability 1 / log2(rank + 1) (position bias);
    one looked at is accepted with probability min(1, 1.2 x the pair's true success
    probability), else declined half the time, else ignored; one not looked at is ignored
    (the seeder's model of a past recommender's lists). An accepted recommendation is a
    request: the mentor answers it (:func:`mentor_responses`). Rows are shown when the
    batch was published and acted on between then and ``now``. Deterministic for a batch
    and ``seed`` (default: the batch id).
    """
    now = now or datetime.now(UTC)
    truth = TruthModel.from_database(engine)
    with engine.begin() as conn:
        shown = pd.read_sql(sql("synthetic/published_batch.sql"), conn)
        if shown.empty:
            raise MatcherError("nothing is published yet (run: matcher score)")
        batch_id = int(shown["batch_id"].iloc[0])
        if conn.execute(sql("synthetic/batch_answered.sql"), {"batch_id": batch_id}).scalar_one():
            raise MatcherError(f"batch {batch_id} already has feedback; simulate again after "
                               f"the next `matcher score`")
        rng = np.random.default_rng(batch_id if seed is None else seed)
        p_accept, p_true = truth.pair_values(shown["mentee_id"], shown["mentor_id"])
        examined = rng.random(len(shown)) < examination_probability(shown["rank"].to_numpy())
        accepted = examined & (rng.random(len(shown)) < np.minimum(1.0, ACCEPT_BOOST * p_true))
        declined = examined & ~accepted & (rng.random(len(shown)) < DECLINE_SHARE)
        action = np.where(accepted, "accepted", np.where(declined, "declined", "ignored"))
        shown_at = pd.Timestamp(shown["published_at"].iloc[0]).to_pydatetime()
        window = max(now - shown_at, timedelta(0))
        acted_at = [shown_at + window * float(u) if a != "ignored" else None
                    for a, u in zip(action, rng.random(len(shown)), strict=True)]
        seats = dict(conn.execute(sql("synthetic/published_seats.sql")).all())
        response = mentor_responses(shown["mentee_id"].to_numpy(), shown["mentor_id"].to_numpy(),
                                    accepted, p_accept, seats, rng)
        rows = shown[["mentee_id", "mentor_id", "batch_id", "rank", "propensity",
                      "p_success"]].assign(
            shown_at=shown_at, action=action, acted_at=acted_at, mentor_response=response)
        copy_frame(conn, "recommendation_feedback", rows)
    counts = {a: int((action == a).sum()) for a in ("accepted", "declined", "ignored")}
    log.info("batch %d: simulated %d feedback rows %s", batch_id, len(rows), counts)
    return SimulatedFeedback(batch_id, len(rows), counts)


def mentor_responses(mentees: np.ndarray, mentors: np.ndarray, requested: np.ndarray,
                     p_accept: np.ndarray, seats: dict[int, int], rng: np.random.Generator
                     ) -> np.ndarray:
    """The mentor's answer to each request (``requested`` rows), as in the market simulator:
    requests arrive in random order; a mentor with a free seat accepts with the pair's true
    acceptance probability, a full one declines; a mentee who has a mentor withdraws the
    rest (no answer). ``None`` where there was no request or it was withdrawn."""
    out = np.full(len(mentees), None, dtype=object)
    free = dict(seats)
    matched: set[int] = set()
    order = np.flatnonzero(requested)
    order = order[rng.permutation(len(order))]
    for row, draw in zip(order.tolist(), rng.random(len(order)).tolist(), strict=True):
        mentee, mentor = int(mentees[row]), int(mentors[row])
        if mentee in matched:
            continue
        if free.get(mentor, 0) > 0 and draw < p_accept[row]:
            free[mentor] -= 1
            matched.add(mentee)
            out[row] = "accepted"
        else:
            out[row] = "declined"
    return out

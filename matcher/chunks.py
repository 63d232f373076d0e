"""One chunk of mentees scored: candidates, features and predictions, then each mentee's best
few. The nightly run scores chunks on threads of its own process (:mod:`matcher.scoring`) or
as tasks on a Dask cluster (:mod:`matcher.cluster`): the same function either way, on a
:class:`~matcher.features.FeatureSession` that reads the run's exported snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from matcher import drift, evaluation
from matcher.clock import Clock
from matcher.features import PRIOR_WEIGHT, RATE_PRIOR, FeatureSession


@dataclass(frozen=True)
class ChunkSpec:
    """What every chunk of one run is scored with."""

    as_of: datetime
    pool_size: int       # best candidates kept per mentee
    max_candidates: int  # candidates generated per mentee
    pinned: dict[int, int] = field(default_factory=dict)  # mentee -> mentor (overrides)


def top_per_mentee(frame: pd.DataFrame, n: int) -> pd.DataFrame:
    """Each mentee's ``n`` best rows: score descending, ties by mentor id (deterministic).

    One ``np.lexsort`` over the three columns: pandas' multi-column sort factorizes each
    column first, a hash of every score, and cost 0.1 s per chunk of 400,000 pairs."""
    mentees = frame["mentee_id"].to_numpy()
    order = np.lexsort((frame["mentor_id"].to_numpy(), -frame["score"].to_numpy(), mentees))
    grouped = mentees[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return frame.iloc[order[rank < n]]


def acceptance_of(acceptance, frame: pd.DataFrame) -> np.ndarray:
    """P(mentor accepts) of each candidate pair: the acceptance model's prediction, or,
    without one, the mentor's acceptance rate so far shrunk towards the programme's
    (:data:`matcher.features.PRIOR_WEIGHT` requests' weight)."""
    if acceptance is not None:
        return acceptance.predict(evaluation.matrix(frame, acceptance.features))
    rate = frame["mentor_acceptance_rate"].to_numpy(float)
    requests = frame["mentor_requests"].to_numpy(float)
    known = ~np.isnan(rate)
    overall = float(np.average(rate[known], weights=requests[known])) if (
        known.any() and requests[known].sum()) else RATE_PRIOR
    return np.where(known, (rate * requests + PRIOR_WEIGHT * overall)
                    / (requests + PRIOR_WEIGHT), overall)


def best_candidates(frame: pd.DataFrame, model, acceptance, size: int,
                    clock: Clock | None = None, pinned: dict[int, int] | None = None,
                    tally: drift.Tally | None = None) -> pd.DataFrame:
    """Each mentee's ``size`` best candidates of ``frame`` (candidate pairs with features) by
    ``model``'s score, and the mentor ``pinned`` for them by an override wherever ranked,
    with P(accept) and the model's features; every candidate's features are counted into
    ``tally`` (drift)."""
    clock = clock or Clock({})
    with clock("predict"):
        X = evaluation.matrix(frame, model.features)
        if tally is not None:
            tally.add(X)
        p_accept = acceptance_of(acceptance, frame)
        scored = frame[["mentee_id", "mentor_id"]].assign(score=model.predict(X),
                                                          p_accept=p_accept)
    with clock("top_k"):
        best = top_per_mentee(scored, size)
        if pinned:
            wanted = scored["mentee_id"].map(pinned) == scored["mentor_id"]
            best = pd.concat([best, scored[wanted & ~scored.index.isin(best.index)]])
        return best.join(pd.DataFrame(X[best.index.to_numpy()], index=best.index,
                                      columns=model.features))


def score_chunk(session: FeatureSession, chunk: list[int], spec: ChunkSpec, model, acceptance,
                clock: Clock | None = None, tally: drift.Tally | None = None
                ) -> tuple[pd.DataFrame, int]:
    """The best candidates of the mentees in ``chunk`` and how many pairs were scored."""
    clock = clock or Clock({})
    with clock("candidates_and_features"):
        frame = session.candidate_frame(chunk, spec.as_of, max_candidates=spec.max_candidates)
    if frame.empty:  # every eligible mentor already paired with these mentees
        return frame.assign(score=[], p_accept=[])[["mentee_id", "mentor_id", "score",
                                                    "p_accept"]], 0
    return (best_candidates(frame, model, acceptance, spec.pool_size, clock, spec.pinned,
                            tally), len(frame))

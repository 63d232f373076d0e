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
    """Each mentee's ``n`` best rows: score descending, ties by mentor id (deterministic),
    grouped by mentee in id order.

    Only the rows that score at least their mentee's ``n``-th best (a partition of each
    mentee's scores, laid out as one row of a grid) are sorted, by the three columns: the
    same rows in the same order as sorting them all, at a quarter of the cost on a chunk of
    400,000 pairs (``benchmarks/chunk_benchmark.py``, n = 30)."""
    mentees = frame["mentee_id"].to_numpy()
    scores = frame["score"].to_numpy()
    if len(mentees) == 0 or n < 1:
        return frame.iloc[:0]
    if in_ranked_order(frame):  # (a night's pool is: it is made of this function's output)
        return frame.iloc[rank_within_mentee(mentees) < n]
    by_mentee = (np.arange(len(mentees)) if np.all(mentees[1:] >= mentees[:-1])
                 else np.argsort(mentees, kind="stable"))
    grouped = mentees[by_mentee]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    sizes = np.diff(np.r_[starts, len(grouped)])
    group = np.repeat(np.arange(len(starts)), sizes)
    grid = np.full((len(starts), sizes.max()), np.inf)  # negated scores, padded
    grid[group, np.arange(len(grouped)) - starts[group]] = -scores[by_mentee]
    nth = min(n, grid.shape[1]) - 1
    threshold = -np.partition(grid, nth, axis=1)[:, nth]  # -inf: fewer than n rows
    kept = by_mentee[scores[by_mentee] >= threshold[group]]
    order = kept[np.lexsort((frame["mentor_id"].to_numpy()[kept], -scores[kept],
                             mentees[kept]))]
    return frame.iloc[order[rank_within_mentee(mentees[order]) < n]]


def in_ranked_order(frame: pd.DataFrame) -> bool:
    """Whether ``frame``'s rows are grouped by mentee in id order, score descending within a
    mentee, ties by mentor id: checked in one pass (at large, 6 ms for the 2.55 M rows of
    the market's pool, which a three-key sort takes 0.6 s to put in that order)."""
    mentee, score, mentor = (frame[c].to_numpy() for c in ("mentee_id", "score", "mentor_id"))
    same = mentee[1:] == mentee[:-1]
    tied = same & (score[1:] == score[:-1])
    return bool(((mentee[1:] > mentee[:-1]) | (same & (score[1:] < score[:-1]))
                 | (tied & (mentor[1:] > mentor[:-1]))).all())


def by_mentee_best_first(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (mentee_id, score, mentor_id, ...) sorted by mentee, then score descending,
    then mentor id (stable); as it is when it is in that order already
    (:func:`in_ranked_order`), as a night's pool is."""
    if in_ranked_order(frame):
        return frame
    return frame.sort_values(["mentee_id", "score", "mentor_id"], ascending=[True, False, True],
                             kind="stable")


def rank_within_mentee(grouped: np.ndarray) -> np.ndarray:
    """0, 1, ... along each run of equal mentee ids (rows grouped by mentee)."""
    first = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    return np.arange(len(grouped)) - np.repeat(first, np.diff(np.r_[first, len(grouped)]))


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

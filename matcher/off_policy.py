"""Off-policy estimates: how many recommendations a *different* model's lists would have had
accepted, from feedback on the lists that were published (logged with propensities by
:mod:`matcher.exploration`).

The quantity is the expected accepted recommendations per list, V(pi) = mean over lists of
sum over pi's items of exam(rank) x rho(mentee, mentor), where exam(r) is the chance that
rank r is looked at and rho the chance that a looked-at recommendation is accepted (the
position-based model the examination estimate already assumes). From each logged list l
with shown items i (mentor a_i at rank r_i, shown with probability p_i, accepted y_i):

* w_i = 1 / p_i if pi's list for l names a_i, else 0; rho_i = y_i / exam(r_i) (unbiased
  for rho given the item was shown); t_i = exam(rank of a_i in pi's list);
* **IPS**: sum_i w_i t_i rho_i per list;
* **SNIPS**: the same normalised by sum_i w_i t_i, times pi's known examination mass per
  list (sum over pi's items of exam(rank)): the exam-weighted mean acceptance of pi's items;
* **DR** (doubly robust): a reward model q(mentee, mentor) for every item of pi's lists,
  corrected by the IPS-weighted residuals rho_i - q_i of the items that were shown. q is
  one yardstick for every policy, never the evaluated model's own opinion of its picks:
  the champion's P(success) of the pair, scaled so that it predicts the logged acceptances
  (:func:`reward_model`), or the logs' mean acceptance where the champion is a ranker;
* a **paired bootstrap** over lists (Poisson weights) gives 95 % intervals and the interval
  of the difference between two policies evaluated on the same logs.

Items of pi's lists that the published lists could never have shown (neither picked nor an
explored alternate) have no logged evidence: IPS counts them as 0, SNIPS as the average of
the others, DR by the reward model alone; ``support`` is the share of pi's items that were
shown. The estimators are pure numpy (:func:`compare`); :func:`evaluate_models` replays
what each model would have published for the logged batches (:func:`matcher.scoring.replay`,
features as of when the lists were shown) and compares them, for ``matcher retrain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from matcher.db import sql
from matcher.features import FeatureSession
from matcher.scoring import ScoreOptions, free_capacity, replay

#: Bootstrap resamples of the logged lists.
BOOTSTRAP = 400
#: Batches (nights) of logged feedback an estimate uses at most, the newest.
NEWEST_BATCHES = 3
#: Longest list the examination estimate covers.
MAX_RANK = 100
#: Two-sided interval level.
LEVEL = 0.95


@dataclass
class Estimate:
    """One policy's estimated accepted recommendations per list, with 95 % intervals."""

    ips: float
    snips: float
    dr: float
    dr_low: float
    dr_high: float
    snips_low: float
    snips_high: float
    support: float   # share of the policy's list items that were shown in the logs
    lists: int

    def as_dict(self) -> dict:
        return {k: round(float(v), 4) for k, v in self.__dict__.items()}


@dataclass
class _Parts:
    """Per logged list: the sums every estimator is a ratio of."""

    a: np.ndarray  # sum_i w_i t_i rho_i
    b: np.ndarray  # sum_i w_i t_i
    c: np.ndarray  # sum over pi's items of exam(rank)
    d: np.ndarray  # sum over pi's items of exam(rank) q
    e: np.ndarray  # sum_i w_i t_i q_i
    shown: np.ndarray  # pi's items that were shown
    items: np.ndarray  # pi's items


def _parts(logged: pd.DataFrame, target: pd.DataFrame, exam: np.ndarray) -> _Parts:
    """``logged``: list, mentor_id, rank, accepted, propensity (one row per shown item);
    ``target``: list, mentor_id, rank, q (pi's lists for the same logged lists)."""
    lists = pd.Index(np.unique(logged["list"]))
    exam_of = lambda ranks: exam[np.minimum(np.asarray(ranks, int), len(exam)) - 1]  # noqa: E731
    both = logged.merge(target, on=["list", "mentor_id"], how="inner",
                        suffixes=("_logged", "_target"))
    w = 1.0 / both["propensity"].to_numpy(float)
    t = exam_of(both["rank_target"])
    rho = both["accepted"].to_numpy(float) / exam_of(both["rank_logged"])
    q = both["q"].to_numpy(float)
    where = lists.get_indexer(both["list"])
    target = target[target["list"].isin(lists)]
    target_where = lists.get_indexer(target["list"])
    t_target = exam_of(target["rank"])

    def per_list(index, values):
        return np.bincount(index, weights=values, minlength=len(lists))

    return _Parts(a=per_list(where, w * t * rho), b=per_list(where, w * t),
                  c=per_list(target_where, t_target),
                  d=per_list(target_where, t_target * target["q"].to_numpy(float)),
                  e=per_list(where, w * t * q),
                  shown=per_list(where, np.ones(len(both))),
                  items=per_list(target_where, np.ones(len(target))))


def _estimators(p: _Parts, weights: np.ndarray) -> dict[str, np.ndarray]:
    """IPS, SNIPS and DR for each row of bootstrap ``weights`` (resamples x lists)."""
    n = weights.sum(axis=1)
    a, b, c = weights @ p.a, weights @ p.b, weights @ p.c
    ratio = np.divide(a, b, out=np.zeros_like(a), where=b > 0)
    return {"ips": a / n, "snips": ratio * c / n, "dr": (weights @ p.d + a - weights @ p.e) / n}


def _resamples(lists: int, seed: int) -> np.ndarray:
    """Poisson(1) bootstrap weights, the first row all ones (the estimate itself)."""
    rng = np.random.default_rng(seed)
    weights = rng.poisson(1.0, size=(BOOTSTRAP + 1, lists)).astype(float)
    weights[0] = 1.0
    weights[weights.sum(axis=1) == 0] = 1.0
    return weights


def estimate(logged: pd.DataFrame, target: pd.DataFrame, exam: np.ndarray,
             seed: int = 0) -> Estimate:
    """``target``'s expected accepted recommendations per list (see the module docstring)."""
    return compare(logged, {"policy": target}, exam, seed)[0]["policy"]


def compare(logged: pd.DataFrame, targets: dict[str, pd.DataFrame], exam: np.ndarray,
            seed: int = 0) -> tuple[dict[str, Estimate], dict[tuple[str, str], tuple]]:
    """Estimates of several policies on the same logs and the same bootstrap resamples, and
    for each ordered pair the 95 % interval of the DR difference (first - second)."""
    lists = int(logged["list"].nunique())
    weights = _resamples(lists, seed)
    low_q, high_q = (1 - LEVEL) / 2, 1 - (1 - LEVEL) / 2
    estimates, draws = {}, {}
    for name, target in targets.items():
        parts = _parts(logged, target, exam)
        values = _estimators(parts, weights)
        draws[name] = values["dr"]
        items = parts.items.sum()
        estimates[name] = Estimate(
            ips=values["ips"][0], snips=values["snips"][0], dr=values["dr"][0],
            dr_low=np.quantile(values["dr"][1:], low_q),
            dr_high=np.quantile(values["dr"][1:], high_q),
            snips_low=np.quantile(values["snips"][1:], low_q),
            snips_high=np.quantile(values["snips"][1:], high_q),
            support=parts.shown.sum() / items if items else 0.0, lists=lists)
    differences = {}
    for first in targets:
        for second in targets:
            if first != second:
                gap = draws[first][1:] - draws[second][1:]
                differences[(first, second)] = (float(draws[first][0] - draws[second][0]),
                                                float(np.quantile(gap, low_q)),
                                                float(np.quantile(gap, high_q)))
    return estimates, differences


def reward_model(logged: pd.DataFrame, exam: np.ndarray) -> float:
    """The scale alpha of the reward model q = min(1, alpha x P(success)) fitted on the logs:
    expected accepted = observed accepted, sum_i exam(r_i) alpha p_i = sum_i y_i
    (``logged`` carries ``p_success`` of each shown item)."""
    expected = (exam[np.minimum(logged["rank"].to_numpy(int), len(exam)) - 1]
                * logged["p_success"].to_numpy(float)).sum()
    return float(logged["accepted"].sum() / expected) if expected > 0 else 0.0


@dataclass
class LoggedBatch:
    """Feedback on one published batch that logged its propensities."""

    batch_id: int
    shown_at: datetime
    objective: str
    k: int
    rows: pd.DataFrame  # mentee_id, mentor_id, rank, accepted, propensity, p_success
    seats: dict[int, int] = field(default_factory=dict)  # free seats when it was scored


def logged_batches(conn: Connection, since: datetime,
                   newest: int = NEWEST_BATCHES) -> list[LoggedBatch]:
    """The ``newest`` batches with logged feedback shown since ``since``, oldest first."""
    frame = pd.read_sql(sql("off_policy/logged_feedback.sql"), conn, params={"since": since})
    out = []
    for batch_id in sorted(frame["batch_id"].unique())[-newest:]:
        rows = frame[frame["batch_id"] == batch_id]
        seats = dict(conn.execute(sql("off_policy/batch_seats.sql"),
                                  {"batch_id": int(batch_id)}).all())
        out.append(LoggedBatch(int(batch_id), pd.Timestamp(rows["shown_at"].min())
                               .to_pydatetime(), str(rows["objective"].iloc[0]),
                               int(rows["k"].iloc[0]),
                               rows[["mentee_id", "mentor_id", "rank", "accepted",
                                     "propensity", "p_success"]].reset_index(drop=True),
                               seats))
    return out


@dataclass
class Comparison:
    """Models' estimates on the same logged batches."""

    estimates: dict[str, Estimate]
    differences: dict[tuple[str, str], tuple[float, float, float]]
    batches: list[int]
    lists: dict[str, pd.DataFrame]  # each model's replayed lists (mentee_id, ... , batch_id)
    #: Mentors with a free seat in those batches (what the lists could name).
    eligible_mentors: int = 0

    def coverage(self, name: str) -> float:
        """Share of the eligible mentors that ``name``'s lists name."""
        named = self.lists[name]["mentor_id"].nunique()
        return named / self.eligible_mentors if self.eligible_mentors else float("nan")


def evaluate_models(conn: Connection, models: dict, acceptance, since: datetime,
                    examine: np.ndarray) -> Comparison | None:
    """Each of ``models`` (name -> model; one named ``champion``, whose P(success) is the
    reward model's yardstick) on the batches logged since ``since``: the lists it
    would have published (the batch's objective and K, the seats then), estimated from the
    feedback; ``examine``: P(rank r is looked at), r = 1..len. ``None`` without logged
    feedback (no list was explored yet)."""
    batches = logged_batches(conn, since)
    if not batches:
        return None
    session = FeatureSession(conn)
    free_now = free_capacity(conn)
    logged, lists = [], {name: [] for name in models}
    eligible: set[int] = set()
    for batch in batches:
        eligible |= set(batch.seats or free_now)
        mentees = sorted(int(m) for m in batch.rows["mentee_id"].unique())
        replayed = replay(session, mentees, batch.shown_at, models, acceptance,
                          ScoreOptions(k=batch.k, objective=batch.objective),
                          batch.seats or free_now, examine, reference="champion")
        logged.append(batch.rows.assign(batch_id=batch.batch_id))
        for name, frame in replayed.items():
            lists[name].append(frame.assign(batch_id=batch.batch_id))
    logged_rows = pd.concat(logged, ignore_index=True)
    scale = (reward_model(logged_rows, examine) if models["champion"].probabilistic
             and logged_rows["p_success"].notna().all() else None)
    rho = reward_model(logged_rows.assign(p_success=1.0), examine)

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(list=frame["batch_id"] * 2**32 + frame["mentee_id"])

    logged_rows = keyed(logged_rows)
    targets = {}
    for name, frames in lists.items():
        target = keyed(pd.concat(frames, ignore_index=True))
        q = (np.full(len(target), min(1.0, rho)) if scale is None else
             np.minimum(1.0, scale * target["reference"].fillna(0).to_numpy(float)))
        targets[name] = target.assign(q=q)
    estimates, differences = compare(logged_rows, targets, examine)
    return Comparison(estimates, differences, [b.batch_id for b in batches],
                      {name: frame.drop(columns=["list"]) for name, frame in targets.items()},
                      len(eligible))

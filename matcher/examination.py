"""How people read lists: e_r = P(rank r is looked at), relative to rank 1, from feedback.

What lists are optimised for (:mod:`matcher.market`), how much an answered row at a low rank
counts in training (inverse-propensity weights, :mod:`matcher.retraining`) and how other
lists would have fared (:mod:`matcher.off_policy`) all rest on this one estimate.

The plain estimate, the answered share at rank r over that at rank 1, confounds position
with quality: better picks sit higher and are answered more often even when looked at as
often, so it makes low ranks look less read than they are. Each feedback row on a batch
matcher published carries the model's P(success) of the pair when it was shown, so the
estimate here fits, by maximum likelihood,

    P(answered) = e_r x sigmoid(b0 + b1 logit P(success))

(looked at, then answered with a chance that grows with the pair's quality), with e_1 = 1.
Where too few rows carry P(success) (:data:`MIN_FIT_ROWS`), the answered-share ratio is
used; ranks with fewer than :data:`MIN_SHOWN_PER_RANK` shown rows keep the prior
1 / log2(r + 1). Either way e_r never rises with rank.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sqlalchemy import Connection

from matcher.db import sql

#: Ranks need this many shown recommendations before their answered share is trusted.
MIN_SHOWN_PER_RANK = 200
#: Feedback rows with the model's P(success) needed to fit the quality-adjusted estimate.
MIN_FIT_ROWS = 2000
#: Smallest examination probability (keeps inverse weights finite).
FLOOR = 1e-3


def prior(k: int) -> np.ndarray:
    """1 / log2(r + 1) for r = 1..k."""
    return 1.0 / np.log2(np.arange(2, k + 2))


def _monotone(values: np.ndarray) -> np.ndarray:
    return np.minimum.accumulate(np.clip(values, FLOOR, 1.0))


def from_answered_share(k: int, answered_by_rank: pd.DataFrame | None = None) -> np.ndarray:
    """e_r for r = 1..k: answered share at r / answered share at rank 1 from feedback
    (columns rank, shown, answered) where a rank has at least :data:`MIN_SHOWN_PER_RANK`
    shown rows, the prior elsewhere."""
    out = prior(k)
    if answered_by_rank is not None and not answered_by_rank.empty:
        data = answered_by_rank.set_index("rank")
        first = data.loc[1] if 1 in data.index else None
        if first is not None and first["shown"] >= MIN_SHOWN_PER_RANK and first["answered"]:
            top = first["answered"] / first["shown"]
            for r in range(1, k + 1):
                if r in data.index and data.loc[r, "shown"] >= MIN_SHOWN_PER_RANK:
                    out[r - 1] = min(1.0, data.loc[r, "answered"] / data.loc[r, "shown"] / top)
    return _monotone(out)


def fit(rows: pd.DataFrame, k: int) -> np.ndarray:
    """e_r for r = 1..k by maximum likelihood from ``rows`` (rank, answered 0/1, p_success):
    P(answered) = e_r x sigmoid(b0 + b1 logit p). Ranks with fewer than
    :data:`MIN_SHOWN_PER_RANK` rows keep the prior."""
    counts = rows["rank"].value_counts()
    fitted = sorted(r for r, n in counts.items() if 1 < r <= k and n >= MIN_SHOWN_PER_RANK)
    column = {r: i for i, r in enumerate(fitted)}
    use = rows[rows["rank"].isin([1, *fitted])]
    p = np.clip(use["p_success"].to_numpy(float), 1e-4, 1 - 1e-4)
    x = np.log(p / (1 - p))
    y = use["answered"].to_numpy(float)
    slot = use["rank"].map(lambda r: column.get(int(r), -1)).to_numpy()
    at = slot >= 0

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray]:
        log_e = np.zeros(len(y))
        e = np.ones(len(y))
        e[at] = 1.0 / (1.0 + np.exp(-theta[2:][slot[at]]))
        log_e[at] = np.log(e[at])
        g = 1.0 / (1.0 + np.exp(-(theta[0] + theta[1] * x)))
        prob = np.clip(e * g, 1e-9, 1 - 1e-9)
        loss = -np.sum(y * np.log(prob) + (1 - y) * np.log(1 - prob))
        # d loss / d prob, then chain through g (b0, b1) and e (theta_r)
        d = -(y / prob - (1 - y) / (1 - prob))
        grad = np.empty_like(theta)
        dg = d * e * g * (1 - g)
        grad[0], grad[1] = dg.sum(), (dg * x).sum()
        de = d * g * e * (1 - e)
        grad[2:] = np.bincount(slot[at], weights=de[at], minlength=len(fitted))
        return float(loss), grad

    start = np.r_[0.0, 1.0, np.log(prior(k)[[r - 1 for r in fitted]]
                                   / (1 - prior(k)[[r - 1 for r in fitted]] + 1e-9))]
    theta = minimize(nll, start, jac=True, method="L-BFGS-B").x
    out = prior(k)
    for r, i in column.items():
        out[r - 1] = 1.0 / (1.0 + np.exp(-theta[2 + i]))
    return _monotone(out)


def estimate(conn: Connection, before: datetime, k: int) -> np.ndarray:
    """e_r for r = 1..k from feedback shown before ``before``: the quality-adjusted fit
    where enough rows carry the model's P(success), else the answered-share ratio."""
    rows = pd.read_sql(sql("examination/answered_rows.sql"), conn, params={"before": before})
    if len(rows) >= MIN_FIT_ROWS and (rows["rank"] == 1).sum() >= MIN_SHOWN_PER_RANK:
        return fit(rows, k)
    answered = pd.DataFrame(conn.execute(sql("examination/answered_by_rank.sql"),
                                         {"before": before}).all(),
                            columns=["rank", "shown", "answered"])
    return from_answered_share(k, answered)


def propensities(examine: np.ndarray, ranks, floor: float) -> dict[int, float]:
    """rank -> P(looked at) for the given ranks, floored (inverse weights at most 1/floor)."""
    return {int(r): float(np.clip(examine[min(int(r), len(examine)) - 1], floor, 1.0))
            for r in ranks}

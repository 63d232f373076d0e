"""Feature drift between when a model was trained and tonight: the population stability
index (PSI) of each feature over the candidates the nightly run scores.

At training time each feature's distribution over a sample of candidate pairs (300 active
mentees' candidates, drawn as the nightly run draws them) is kept as a **profile** with the
model version: its deciles as bin edges, the share of pairs in each bin and the share with
no value. (The labelled training pairs themselves are the pairs people chose: a different
population on any date, so comparing candidates with them would always look like drift.)
The nightly run counts a systematic sample of its candidate pairs (one in
:data:`SAMPLE_EVERY`) into the same bins (:class:`Tally`, chunk by chunk), and PSI = sum
over bins of (a - e) ln(a / e), with e the training share and a tonight's. Rule of thumb:
below 0.1 stable, 0.1 to 0.25 a shift worth a look, above :data:`WARN_PSI` a shift that
warrants retraining.
"""

from __future__ import annotations

import threading

import numpy as np

#: PSI from which the nightly run logs a warning for a feature.
WARN_PSI = 0.25
#: The nightly run counts one candidate pair in this many: deciles' shares of the ~430,000
#: pairs that leaves on the medium world vary by far less than any PSI worth a look, and
#: counting every pair cost 0.14 s per chunk of 400,000.
SAMPLE_EVERY = 8
#: Smallest share in a bin (avoids log(0) for empty bins).
EPSILON = 1e-4


def profile(X: np.ndarray, features: list[str]) -> dict:
    """Per feature: ``edges`` (inner bin edges: the distinct deciles), ``shares`` (of the
    non-missing values per bin) and ``missing`` (share of missing values)."""
    out = {}
    for column, name in enumerate(features):
        values = np.asarray(X[:, column], dtype=float)
        present = values[~np.isnan(values)]
        edges = np.unique(np.quantile(present, np.linspace(0.1, 0.9, 9))) if len(present) \
            else np.array([])
        counts = np.bincount(np.searchsorted(edges, present, side="right"),
                             minlength=len(edges) + 1)
        out[name] = {"edges": edges.tolist(),
                     "shares": (counts / max(len(values), 1)).tolist(),
                     "missing": float(np.isnan(values).mean()) if len(values) else 0.0}
    return out


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of two share vectors over the same bins."""
    e = np.maximum(np.asarray(expected, float), EPSILON)
    a = np.maximum(np.asarray(actual, float), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


class Tally:
    """Counts rows of feature matrices into a model's profile bins (thread-safe)."""

    def __init__(self, reference: dict, features: list[str]) -> None:
        self.reference = {f: reference[f] for f in features if f in reference}
        self.columns = {f: i for i, f in enumerate(features) if f in self.reference}
        self.counts = {f: np.zeros(len(r["edges"]) + 2) for f, r in self.reference.items()}
        self.lock = threading.Lock()

    def add(self, X: np.ndarray) -> None:
        """Count every :data:`SAMPLE_EVERY`-th row of ``X`` (columns in the model's feature
        order), from the first."""
        X = X[::SAMPLE_EVERY]
        for name, column in self.columns.items():
            values = np.asarray(X[:, column], dtype=float)
            missing = np.isnan(values)
            bins = np.searchsorted(np.asarray(self.reference[name]["edges"]), values[~missing],
                                   side="right")
            counts = np.bincount(bins, minlength=len(self.counts[name]) - 1)
            with self.lock:
                self.counts[name][:-1] += counts
                self.counts[name][-1] += missing.sum()

    def merge(self, counts: dict[str, np.ndarray]) -> None:
        """Add another tally's counts (of the same profile), e.g. a Dask worker's."""
        with self.lock:
            for name, values in counts.items():
                self.counts[name] += values

    def result(self) -> dict[str, float]:
        """Feature -> PSI of what was counted against the training profile."""
        out = {}
        for name, counts in self.counts.items():
            total = counts.sum()
            if not total:
                continue
            reference = self.reference[name]
            out[name] = round(psi([*reference["shares"], reference["missing"]],
                                  counts / total), 4)
        return out

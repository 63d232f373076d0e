"""Classification and per-mentee ranking metrics, and efficiency against the oracle.

Ranking metrics are computed per group (one mentee's held-out pairs), then averaged over
groups that have at least one positive. Definitions (``rel`` = labels in model order):

Every metric takes optional per-row ``weights`` (inverse-propensity weights for position
bias): a row of weight w counts as w rows (ECE: bins of equal weight); in ranking metrics a
positive's gain is its weight.


* NDCG@K = DCG@K / ideal DCG@K with DCG = sum(rel_i / log2(i + 1)), i = 1..K (the same as
  ``sklearn.metrics.ndcg_score``; a test checks it);
* MAP@K = mean over positives in the top K of precision at their rank, divided by
  min(K, positives);
* Recall@K = positives in the top K / positives; hit rate@K = 1 if any positive is in the
  top K; MRR = 1 / rank of the first positive.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

RANKING_KS = (5, 10)


def classification(y: np.ndarray, score: np.ndarray, probabilistic: bool,
                   weights: np.ndarray | None = None) -> dict[str, float]:
    """Accuracy, precision, recall, F1 (at 0.5), ROC-AUC, PR-AUC, log loss, Brier score and
    expected calibration error (ECE), each weighted by ``weights`` when given.

    For scores that are not probabilities (a ranker), only the rank-based ROC-AUC and
    PR-AUC are reported.
    """
    y = np.asarray(y, dtype=int)
    w = None if weights is None else np.asarray(weights, dtype=float)
    both = len(np.unique(y)) == 2  # with one label value, the AUCs are undefined
    out = {"roc_auc": float(skm.roc_auc_score(y, score, sample_weight=w)) if both
           else float("nan"),
           "pr_auc": float(skm.average_precision_score(y, score, sample_weight=w)) if both
           else float("nan")}
    if probabilistic:
        p = np.clip(np.asarray(score, dtype=float), 1e-6, 1 - 1e-6)
        predicted = (p >= 0.5).astype(int)
        out |= {"accuracy": float(skm.accuracy_score(y, predicted, sample_weight=w)),
                "precision": float(skm.precision_score(y, predicted, zero_division=0,
                                                       sample_weight=w)),
                "recall": float(skm.recall_score(y, predicted, zero_division=0,
                                                 sample_weight=w)),
                "f1": float(skm.f1_score(y, predicted, zero_division=0, sample_weight=w)),
                "log_loss": float(skm.log_loss(y, p, labels=[0, 1], sample_weight=w)),
                "brier": float(skm.brier_score_loss(y, p, sample_weight=w)),
                "ece": expected_calibration_error(y, p, weights=w)}
    return out


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10,
                               weights: np.ndarray | None = None) -> float:
    """Mean |observed share of positives - mean predicted p| over bins of p holding equal
    weight (equal counts without ``weights``), weighted by bin weight: 0 for a perfectly
    calibrated model."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    w = np.ones(len(p)) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(p, kind="stable")
    y, p, w = y[order], p[order], w[order]
    # a row belongs to the bin that holds the midpoint of its share of the total weight
    middle = np.cumsum(w) - w / 2
    which = np.minimum((middle / w.sum() * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(which):
        part = which == b
        weight = w[part].sum()
        total += weight * abs(np.average(y[part], weights=w[part])
                              - np.average(p[part], weights=w[part]))
    return float(total / w.sum())


def coverage(groups: np.ndarray, items: np.ndarray, score: np.ndarray, k: int = 10) -> float:
    """Share of the distinct ``items`` (mentors) that reach some group's top ``k``."""
    frame = pd.DataFrame({"group": groups, "item": items, "score": score})
    top = frame.sort_values(["group", "score", "item"], ascending=[True, False, True])
    top = top[top.groupby("group").cumcount() < k]
    return float(top["item"].nunique() / max(frame["item"].nunique(), 1))


def _dcg(gains: np.ndarray, k: int) -> float:
    gains = gains[:k]
    return float(np.sum(gains / np.log2(np.arange(2, len(gains) + 2))))


def group_ranking(relevance_in_model_order: np.ndarray, k: int) -> dict[str, float]:
    """NDCG@k, MAP@k, Recall@k, hit rate@k and MRR of one group."""
    rel = np.asarray(relevance_in_model_order, dtype=float)
    positives = rel > 0
    ideal = _dcg(np.sort(rel)[::-1], k)
    hits = positives[:k]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    first = np.flatnonzero(positives)
    return {
        f"ndcg@{k}": _dcg(rel, k) / ideal if ideal > 0 else 0.0,
        f"map@{k}": float(np.sum(precision_at * hits) / min(k, positives.sum()))
        if positives.any() else 0.0,
        f"recall@{k}": float(hits.sum() / positives.sum()) if positives.any() else 0.0,
        f"hit_rate@{k}": float(hits.any()),
        "mrr": float(1.0 / (first[0] + 1)) if len(first) else 0.0,
    }


def ranking(groups: np.ndarray, y: np.ndarray, score: np.ndarray,
            ks=RANKING_KS, weights: np.ndarray | None = None) -> dict[str, float]:
    """Ranking metrics averaged over groups with at least one positive and two rows; with
    ``weights``, a positive's gain is its weight (inverse propensity).

    Ties in ``score`` are broken against the label (pessimistic), so a constant score
    earns no credit.
    """
    gain = np.asarray(y, float) * (1.0 if weights is None else np.asarray(weights, float))
    frame = pd.DataFrame({"g": groups, "y": gain, "s": score})
    frame = frame.sort_values(["g", "s", "y"], ascending=[True, False, True], kind="stable")
    per_group = []
    for _, group in frame.groupby("g", sort=False):
        if len(group) < 2 or not (group["y"] > 0).any():
            continue
        row = {}
        for k in ks:
            row |= group_ranking(group["y"].to_numpy(), k)
        per_group.append(row)
    if not per_group:
        return {"groups": 0}
    out = pd.DataFrame(per_group).mean().to_dict()
    return {"groups": len(per_group)} | {k: float(v) for k, v in out.items()}


def ndcg_curve(groups, y, score, ks=range(1, 21)) -> list[float]:
    """Mean NDCG@k for each k (for the report's curve)."""
    return [ranking(groups, y, score, ks=(k,)).get(f"ndcg@{k}", float("nan")) for k in ks]


def oracle_efficiency(true_p_by_group: list[tuple[np.ndarray, np.ndarray]],
                      k: int = 10) -> dict[str, float]:
    """Against the oracle, per mentee ``(model_scores, true_probabilities)`` over all their
    eligible mentors: efficiency = sum of true p of the model's top-k / sum of true p of the
    oracle's top-k (pooled over mentees), and mean NDCG@k with the true p as gain."""
    model_total = oracle_total = 0.0
    ndcgs = []
    for score, p in true_p_by_group:
        model_order = p[np.lexsort((p, -score))]  # ties broken pessimistically
        best = np.sort(p)[::-1]
        model_total += model_order[:k].sum()
        oracle_total += best[:k].sum()
        ndcgs.append(_dcg(model_order, k) / _dcg(best, k))
    return {"oracle_efficiency": model_total / oracle_total if oracle_total else float("nan"),
            f"oracle_ndcg@{k}": float(np.mean(ndcgs)) if ndcgs else float("nan")}

"""What models learn from and how they are judged: labelled pairs, the time split, baselines,
held-out metrics and, on synthetic worlds, efficiency against the oracle.

Labelled pairs (features as of each pair's own time, see :mod:`matcher.features`):

* every interaction that ended: label 1 if completed, 0 if abandoned (declined and still
  active requests have no outcome);
* every shown recommendation the mentee acted on: label 1 if accepted, 0 if declined.
  Ignored rows are left out: a lower-ranked row is more often ignored because it was never
  looked at (position bias), not because it was a worse match; among rows that were acted
  on, the rank no longer decides the action.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from matcher import metrics, registry
from matcher.algorithms import Algorithm
from matcher.candidates import active_mentee_ids
from matcher.errors import MatcherError
from matcher.features import FEATURES, FeatureSession

log = logging.getLogger(__name__)

Scorer = Callable[[pd.DataFrame], np.ndarray]


def labelled_pairs(session: FeatureSession) -> pd.DataFrame:
    """Columns: mentee_id, mentor_id, as_of, label, source, rank (the position shown, for
    feedback), then FEATURES; sorted by mentee then time (the order rankers need)."""
    interactions = session.training_frame()
    interactions = interactions[interactions["success"].notna()].assign(
        label=lambda f: f["success"].astype(int), source="interaction")
    feedback = session.feedback_frame()
    feedback = feedback[feedback["action"].isin(["accepted", "declined"])].assign(
        label=lambda f: f["accepted"].astype(int), source="feedback")
    interactions = interactions.assign(rank=np.nan)
    columns = ["mentee_id", "mentor_id", "as_of", "label", "source", "rank", *FEATURES]
    frame = pd.concat([interactions[columns], feedback[columns]], ignore_index=True)
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True)
    return frame.sort_values(["mentee_id", "as_of", "mentor_id"], kind="stable",
                             ignore_index=True)


def acceptance_pairs(session: FeatureSession) -> pd.DataFrame:
    """Every request, labelled 1 if the mentor accepted it and 0 if declined, with features as
    of the request: what the acceptance model learns. Requests are interactions, and accepted
    recommendations whose feedback carries the mentor's answer (``mentor_response``; features
    as of when the list was shown), unless the programme also recorded that request as an
    interaction (same pair, requested since). Same columns as :func:`labelled_pairs`."""
    interactions = session.training_frame().assign(
        label=lambda f: f["accepted"].astype(int), source="interaction", rank=np.nan)
    answered = session.feedback_frame()
    answered = answered[answered["mentor_response"].notna()]
    requested = interactions.groupby(["mentee_id", "mentor_id"])["as_of"].max()
    latest = pd.to_datetime(pd.Series(
        requested.reindex(pd.MultiIndex.from_frame(answered[["mentee_id", "mentor_id"]]))
        .to_numpy(), index=answered.index), utc=True)
    answered = answered[~(latest >= pd.to_datetime(answered["as_of"], utc=True))].assign(
        label=lambda f: (f["mentor_response"] == "accepted").astype(int), source="feedback")
    columns = ["mentee_id", "mentor_id", "as_of", "label", "source", "rank", *FEATURES]
    frame = pd.concat([interactions[columns], answered[columns]], ignore_index=True)
    frame["as_of"] = pd.to_datetime(frame["as_of"], utc=True)
    return frame.sort_values(["mentee_id", "as_of", "mentor_id"], kind="stable",
                             ignore_index=True)


#: What a model predicts -> how its labelled pairs are built.
TARGETS = {"success": labelled_pairs, "acceptance": acceptance_pairs}


@dataclass
class Split:
    train: pd.DataFrame
    test: pd.DataFrame
    cutoff: pd.Timestamp


def time_split(pairs: pd.DataFrame, holdout_share: float = 0.2,
               not_before: pd.Timestamp | None = None, *, need_test: bool = True) -> Split:
    """Train on pairs dated before the cutoff, test on pairs from it on; the cutoff leaves
    about ``holdout_share`` of the pairs for testing, and is moved to ``not_before`` if that
    is later (so that a model trained on pairs before ``not_before`` never sees the test).
    Raises :class:`MatcherError` if the training part cannot train a model, or (when
    ``need_test``) the test part is empty."""
    if pairs.empty:
        raise MatcherError("there are no labelled pairs yet (ended interactions or "
                           "answered recommendations) to learn from")
    cutoff = pairs["as_of"].quantile(1 - holdout_share)
    if not_before is not None and not_before > cutoff:
        cutoff = not_before
    train = pairs[pairs["as_of"] < cutoff].reset_index(drop=True)
    test = pairs[pairs["as_of"] >= cutoff].reset_index(drop=True)
    if train["label"].nunique() < 2 or (need_test and test.empty):
        raise MatcherError(f"not enough labelled pairs to train and test: {len(train)} "
                           f"before {cutoff:%Y-%m-%d %H:%M} UTC ({train['label'].nunique()} "
                           f"label value(s)), {len(test)} from then on")
    return Split(train, test, cutoff)


def matrix(frame: pd.DataFrame, features=FEATURES) -> np.ndarray:
    """The feature columns a model was trained on (older versions may use fewer)."""
    missing = sorted(set(features) - set(frame.columns))
    if missing:
        raise MatcherError(f"the model needs features this version of matcher no longer "
                           f"computes: {', '.join(missing)}; retrain it")
    return frame[list(features)].to_numpy(dtype=np.float32)


def fit(model: Algorithm, frame: pd.DataFrame) -> float:
    """Fit ``model`` on ``frame`` (sorted by mentee; rows weighted by its ``weight`` column
    when it has one); returns seconds taken."""
    start = time.perf_counter()
    weights = frame["weight"].to_numpy(dtype=float) if "weight" in frame else None
    model.fit(matrix(frame), frame["label"].to_numpy(), frame["mentee_id"].to_numpy(), weights)
    return time.perf_counter() - start


BASELINES: dict[str, Scorer] = {
    "random": lambda f: np.random.default_rng(0).random(len(f)),
    "popularity": lambda f: f["mentor_completed"].to_numpy(dtype=float),
    "content": lambda f: (10 * f["domain_overlap_count"] + f["skill_coverage"]).to_numpy(float),
}


@dataclass
class OracleSample:
    """All eligible mentors for a sample of active mentees, with features and the true
    success probability of each pair (synthetic worlds only)."""

    frame: pd.DataFrame
    true_p: np.ndarray

    def evaluate(self, scores: np.ndarray, k: int = 10) -> dict[str, float]:
        groups = []
        for _, index in self.frame.groupby("mentee_id").indices.items():
            groups.append((scores[index], self.true_p[index]))
        return metrics.oracle_efficiency(groups, k)


#: Builds the oracle sample for a database at a time, or ``None`` where there is no ground
#: truth; synthetic worlds supply one (:func:`matcher.synthetic.oracle.source`).
OracleSource = Callable[[FeatureSession, Connection, datetime], "OracleSample | None"]


def sample_mentees(conn: Connection, n_mentees: int, seed: int) -> np.ndarray:
    """A reproducible sample of active mentees (internal ids, sorted)."""
    mentees = np.array(active_mentee_ids(conn))
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(mentees, min(n_mentees, len(mentees)), replace=False))


def candidate_sample(session: FeatureSession, conn: Connection, as_of: datetime,
                     n_mentees: int = 300, seed: int = 0) -> pd.DataFrame:
    """A sample of active mentees with their candidates and features, as the nightly run
    generates them: what a model's top-10 lists would be drawn from (for coverage)."""
    sample = sample_mentees(conn, n_mentees, seed)
    frame = session.candidate_frame(sample.tolist(), as_of)
    return frame.sort_values(["mentee_id", "mentor_id"], ignore_index=True)


@dataclass
class Evaluation:
    """Scores and metrics of one model or baseline on the holdout (and the oracle sample)."""

    name: str
    kind: str  # "model" or "baseline"
    metrics: dict[str, float] = field(default_factory=dict)
    test_scores: np.ndarray | None = None
    oracle_scores: np.ndarray | None = None
    probabilistic: bool = True


def evaluate(name: str, kind: str, score: Scorer, probabilistic: bool, test: pd.DataFrame,
             oracle: OracleSample | None) -> Evaluation:
    """Metrics of ``score`` on ``test``, each row weighted by its ``weight`` column when it
    has one (the inverse-propensity weights training used, so that holdout metrics, ECE and
    the promotion rules judge what the model learned for)."""
    y = test["label"].to_numpy()
    weights = test["weight"].to_numpy(dtype=float) if "weight" in test else None
    scores = np.asarray(score(test), dtype=float)
    result = Evaluation(name, kind, test_scores=scores, probabilistic=probabilistic)
    result.metrics |= metrics.classification(y, scores, probabilistic and kind != "baseline",
                                             weights)
    result.metrics |= metrics.ranking(test["mentee_id"].to_numpy(), y, scores,
                                      weights=weights)
    if oracle is not None:
        result.oracle_scores = np.asarray(score(oracle.frame), dtype=float)
        result.metrics |= oracle.evaluate(result.oracle_scores)
    return result


def model_scorer(model: Algorithm) -> Scorer:
    return lambda frame: model.predict(matrix(frame, model.features))


COVERAGE = "coverage@10"


def judge(name: str, kind: str, model: Algorithm, test: pd.DataFrame,
          oracle: OracleSample | None, candidates: pd.DataFrame | None = None) -> Evaluation:
    """How good ``model`` is on the holdout: classification and ranking metrics, oracle
    efficiency (where a ground truth exists) and, given a sample of ``candidates`` as the
    nightly run draws them, coverage (share of mentors reaching some mentee's top 10).
    Training, retraining and ``matcher evaluate`` all judge models with this."""
    result = evaluate(name, kind, model_scorer(model), model.probabilistic, test, oracle)
    if candidates is not None:
        result.metrics[COVERAGE] = metrics.coverage(
            candidates["mentee_id"].to_numpy(), candidates["mentor_id"].to_numpy(),
            model.predict(matrix(candidates, model.features)))
    return result


def baselines(test: pd.DataFrame, oracle: OracleSample | None) -> list[Evaluation]:
    """The baselines every model is shown beside."""
    return [evaluate(name, "baseline", score, False, test, oracle)
            for name, score in BASELINES.items()]


def evaluate_version(engine, version_id: int | None, holdout_share: float,
                     oracle_source: OracleSource | None = None
                     ) -> tuple[Split, list[Evaluation]]:
    """``matcher evaluate``: a registered version (default: the champion) beside the
    baselines on the newest ``holdout_share`` of labelled pairs."""
    with engine.begin() as conn:
        loaded = (registry.load(conn, version_id) if version_id is not None
                  else registry.load_champion(conn))
        session = FeatureSession(conn)
        split = time_split(labelled_pairs(session), holdout_share)
        oracle = oracle_source(session, conn, datetime.now(UTC)) if oracle_source else None
    return split, [*baselines(split.test, oracle),
                   judge(f"v{loaded.version_id} ({loaded.algorithm})", "model", loaded.model,
                         split.test, oracle)]


def main_metric(oracle: OracleSample | None, target: str = "success") -> str:
    """What decides which model is best: for success models, oracle efficiency where a
    ground truth exists, else NDCG@10 on the holdout; for acceptance models (a probability
    per request, not a ranking), ROC AUC."""
    if target == "acceptance":
        return "roc_auc"
    return "oracle_efficiency" if oracle is not None else "ndcg@10"


#: What decides between models when the main metric is undefined on a holdout (e.g. NDCG@10
#: when no mentee has two held-out pairs), in order of preference.
FALLBACK_METRICS = ("ndcg@10", "roc_auc", "pr_auc")


def decisive_metric(preferred: str, evaluations: list[Evaluation]) -> str | None:
    """``preferred`` if every one of ``evaluations`` has a finite value of it, else the first
    of :data:`FALLBACK_METRICS` that does; ``None`` if none does (then nothing may be
    promoted: a decision on an undefined metric is no decision)."""
    for metric in dict.fromkeys((preferred, *FALLBACK_METRICS)):
        if evaluations and all(np.isfinite(e.metrics.get(metric, float("nan")))
                               for e in evaluations):
            return metric
    return None


def cross_validate(algorithm: type[Algorithm], parameters: dict, train: pd.DataFrame,
                   folds: int) -> dict[str, float]:
    """Grouped k-fold by mentee on the training pairs: mean and std of ROC-AUC and NDCG@10."""
    from sklearn.model_selection import GroupKFold

    results = []
    for fit_rows, test_rows in GroupKFold(n_splits=folds).split(train, groups=train["mentee_id"]):
        model = algorithm(list(FEATURES), parameters)
        fit(model, train.iloc[fit_rows])
        test = train.iloc[test_rows]
        scores = model.predict(matrix(test))
        y = test["label"].to_numpy()
        results.append({"roc_auc": metrics.classification(y, scores, False)["roc_auc"],
                        "ndcg@10": metrics.ranking(test["mentee_id"].to_numpy(), y, scores)
                        .get("ndcg@10", float("nan"))})
    frame = pd.DataFrame(results)
    return {f"cv_{k}_{stat}": float(getattr(frame[k], stat)()) for k in frame
            for stat in ("mean", "std")}

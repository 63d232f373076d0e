"""The algorithms matcher trains, behind one small interface.

Every algorithm fits on a feature matrix (columns = :data:`matcher.features.FEATURES`) with
binary labels and mentee groups, scores pairs (higher = better match), reports feature
importances and per-pair signed contributions (for explanations), and turns itself into
bytes and back. Nothing executable is ever stored: XGBoost models are kept in XGBoost's own
UBJSON format (trees as data), scikit-learn pipelines in skops' format, loaded only when
every type in the file is on :data:`TRUSTED_SKLEARN_TYPES` (pickle and joblib can run any
code while loading, so they are never used).

Hyper-parameters live in :data:`PARAMETERS`, the one place to change them.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import xgboost as xgb
from scipy import sparse
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from matcher.errors import ArtifactRefused, NotFitted

#: The only types a stored scikit-learn model may contain beyond those skops trusts by
#: default (scikit-learn estimators, numpy arrays and scalars, built-in containers).
TRUSTED_SKLEARN_TYPES = ("numpy.dtype", "sklearn.tree._tree.Tree")

#: Default hyper-parameters per algorithm.
PARAMETERS: dict[str, dict] = {
    "logistic": {"C": 1.0, "max_iter": 1000, "class_weight": "balanced"},
    "random_forest": {"n_estimators": 300, "max_depth": 10, "min_samples_leaf": 20,
                      "class_weight": "balanced", "n_jobs": -1, "random_state": 0},
    "xgboost": {"n_estimators": 300, "max_depth": 4, "learning_rate": 0.05,
                "subsample": 0.8, "colsample_bytree": 0.8, "min_child_weight": 5,
                "n_jobs": 2, "random_state": 0},
    "xgboost_ranker": {"objective": "rank:ndcg", "n_estimators": 300, "max_depth": 4,
                       "learning_rate": 0.05, "subsample": 0.8, "colsample_bytree": 0.8,
                       "min_child_weight": 5, "n_jobs": 2, "random_state": 0},
}


class Algorithm:
    """fit / predict / importances / contributions / to_bytes / from_bytes."""

    name: ClassVar[str]
    artifact_format: ClassVar[str]
    #: Whether :meth:`predict` returns a probability (else only an ordering score).
    probabilistic: ClassVar[bool] = True

    def __init__(self, features: list[str], parameters: dict | None = None) -> None:
        self.features = list(features)
        self.parameters = {**PARAMETERS[self.name], **(parameters or {})}

    def fit(self, X: np.ndarray, y: np.ndarray, groups: np.ndarray,
            weights: np.ndarray | None = None) -> Algorithm:
        """Train on ``X`` with labels ``y``; rows of one mentee share a ``groups`` value and
        are contiguous (sorted by group). ``weights`` (per row) count a row that many times,
        e.g. inverse-propensity weights for position bias."""
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _require_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFitted(f"{self.name} model is not fitted: call fit() first, or load a "
                            "trained version from the registry")

    def importances(self) -> dict[str, float]:
        """Global importance per feature, summing to 1."""
        raise NotImplementedError

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """(rows, features) signed contribution of each feature to each row's score."""
        raise NotImplementedError

    def to_bytes(self) -> bytes:
        raise NotImplementedError

    @classmethod
    def from_bytes(cls, data: bytes, features: list[str], parameters: dict) -> Algorithm:
        raise NotImplementedError


def _normalised(values: np.ndarray, features: list[str]) -> dict[str, float]:
    values = np.abs(np.asarray(values, dtype=float))
    total = values.sum() or 1.0
    return {f: float(v / total) for f, v in zip(features, values, strict=True)}


class _SklearnAlgorithm(Algorithm):
    artifact_format = "skops"
    #: The pipeline's steps, in order: a stored artifact must have exactly these.
    steps: ClassVar[tuple[type, ...]]

    def _estimator(self):
        raise NotImplementedError

    def fit(self, X, y, groups, weights=None):
        self.pipeline = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                      *self._estimator())
        step = self.pipeline.steps[-1][0]
        self.pipeline.fit(X, y, **({} if weights is None else {f"{step}__sample_weight": weights}))
        return self

    def predict(self, X):
        self._require_fitted("pipeline")
        return self.pipeline.predict_proba(X)[:, 1]

    def _prepared(self, X):
        self._require_fitted("pipeline")
        return self.pipeline[:-1].transform(X)

    def to_bytes(self) -> bytes:
        import skops.io

        self._require_fitted("pipeline")
        return skops.io.dumps(self.pipeline)

    @classmethod
    def from_bytes(cls, data, features, parameters):
        """Rebuild the pipeline from skops' format; :class:`ArtifactRefused` if the file holds
        any type outside the trusted ones (nothing is constructed then) or is not the
        pipeline this algorithm writes."""
        import skops.io
        from sklearn.pipeline import Pipeline

        try:
            untrusted = skops.io.get_untrusted_types(data=data)
        except Exception as exc:  # noqa: BLE001 - not a skops file at all
            raise ArtifactRefused(f"not a readable skops artifact ({exc})") from None
        refused = sorted(set(untrusted) - set(TRUSTED_SKLEARN_TYPES))
        if refused:
            raise ArtifactRefused(f"the artifact contains types matcher does not trust: "
                                  f"{', '.join(refused)}; it was not loaded")
        pipeline = skops.io.loads(data, trusted=list(TRUSTED_SKLEARN_TYPES))
        shape = (tuple(type(step) for _, step in pipeline.steps)
                 if isinstance(pipeline, Pipeline) else type(pipeline))
        if shape != cls.steps:
            raise ArtifactRefused(f"the artifact is not a {cls.name} pipeline "
                                  f"({shape}); it was not loaded")
        model = cls(features, parameters)
        model.pipeline = pipeline
        return model


class LogisticModel(_SklearnAlgorithm):
    """Logistic regression on standardised features (missing values: median)."""

    name = "logistic"
    steps = (SimpleImputer, StandardScaler, LogisticRegression)

    def _estimator(self):
        return StandardScaler(), LogisticRegression(**self.parameters)

    def importances(self):
        self._require_fitted("pipeline")
        return _normalised(self.pipeline[-1].coef_[0], self.features)

    def contributions(self, X):
        """Exact for the logit: standardised value times coefficient."""
        return self._prepared(X) * self.pipeline[-1].coef_[0]


class RandomForestModel(_SklearnAlgorithm):
    """Random forest (missing values: median)."""

    name = "random_forest"
    steps = (SimpleImputer, RandomForestClassifier)

    def _estimator(self):
        return (RandomForestClassifier(**self.parameters),)

    def predict(self, X):
        # Trees' votes summed in parallel threads add up in varying order (last-bit noise);
        # one thread gives the same scores every time.
        self._require_fitted("pipeline")
        self.pipeline[-1].n_jobs = 1
        return super().predict(X)

    def importances(self):
        self._require_fitted("pipeline")
        return _normalised(self.pipeline[-1].feature_importances_, self.features)

    def contributions(self, X):
        """Saabas decomposition: each split's change in the positive-class share is credited
        to the split's feature, averaged over trees (sums to prediction - base rate)."""
        prepared = self._prepared(X)
        forest = self.pipeline[-1]
        total = np.zeros((len(prepared), len(self.features)))
        for tree in forest.estimators_:
            t = tree.tree_
            value = t.value[:, 0, :]
            share = value[:, 1] / value.sum(axis=1)
            children = np.concatenate([t.children_left, t.children_right])
            parents = np.concatenate([np.arange(t.node_count)] * 2)
            keep = children >= 0
            children, parents = children[keep], parents[keep]
            delta = sparse.csr_matrix(
                (share[children] - share[parents], (children, t.feature[parents])),
                shape=(t.node_count, len(self.features)))
            total += (tree.decision_path(prepared) @ delta).toarray()
        return total / len(forest.estimators_)


class _XGBoostAlgorithm(Algorithm):
    artifact_format = "xgboost-ubj"

    def _fit(self, X, y, groups, weights) -> xgb.Booster:
        raise NotImplementedError

    def fit(self, X, y, groups, weights=None):
        self.booster = self._fit(X, y, groups, weights)
        return self

    def predict(self, X):
        """The model's predictions, complete rows passed first: XGBoost walks rows in blocks
        of 64 and checks every value for missing in a block that has one, so NaNs spread
        over the candidates (a mentor without history) slowed every block
        (``benchmarks/scoring_benchmark.py``); the same predictions, in ``X``'s order."""
        self._require_fitted("booster")
        X = np.ascontiguousarray(X, dtype=np.float32)
        incomplete = np.isnan(X).any(axis=1)
        if not incomplete.any() or incomplete.all():
            return self.booster.inplace_predict(X)
        order = np.argsort(incomplete, kind="stable")
        predictions = np.empty(len(X), dtype=np.float32)
        predictions[order] = self.booster.inplace_predict(X[order])
        return predictions

    def importances(self):
        self._require_fitted("booster")
        gain = self.booster.get_score(importance_type="total_gain")
        return _normalised([gain.get(f, 0.0) for f in self.features], self.features)

    def contributions(self, X):
        """Per-feature contributions in the model's margin units, adding up to the margin
        minus the bias. Saabas path attribution (XGBoost's ``approx_contribs``), because exact
        TreeSHAP costs far more per row on the nightly run's explained rows (no benchmark
        here prints the two side by side)."""
        self._require_fitted("booster")
        matrix = xgb.DMatrix(np.asarray(X, dtype=np.float32), feature_names=self.features)
        return self.booster.predict(matrix, pred_contribs=True, approx_contribs=True)[:, :-1]

    def to_bytes(self) -> bytes:
        self._require_fitted("booster")
        return bytes(self.booster.save_raw("ubj"))

    @classmethod
    def from_bytes(cls, data, features, parameters):
        """XGBoost's UBJSON model: trees and parameters as data, parsed by XGBoost."""
        model = cls(features, parameters)
        model.booster = xgb.Booster()
        try:
            model.booster.load_model(bytearray(data))
        except xgb.core.XGBoostError as exc:
            raise ArtifactRefused(f"not a readable XGBoost model ({str(exc).splitlines()[0]})"
                                  ) from None
        return model


class XGBoostModel(_XGBoostAlgorithm):
    """Gradient-boosted trees, binary logistic; positives up-weighted to balance classes."""

    name = "xgboost"

    def _fit(self, X, y, groups, weights):
        weights = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
        positives = max(float(weights[y == 1].sum()), 1e-9)
        model = xgb.XGBClassifier(**self.parameters,
                                  scale_pos_weight=float(weights[y != 1].sum()) / positives)
        model.fit(np.asarray(X, dtype=np.float32), y, sample_weight=weights)
        booster = model.get_booster()
        booster.feature_names = self.features
        return booster


class XGBoostRankerModel(_XGBoostAlgorithm):
    """Learning to rank (LambdaMART, ``rank:ndcg``) with one query group per mentee.

    Scores order mentors for a mentee; they are not probabilities. XGBoost weighs ranking
    groups, not rows: with row ``weights`` a mentee's group gets their mean.
    """

    name = "xgboost_ranker"
    probabilistic = False

    def _fit(self, X, y, groups, weights):
        if np.any(np.diff(groups) < 0):
            raise ValueError("rows must be sorted by mentee (query group)")
        model = xgb.XGBRanker(**self.parameters)
        group_weights = None if weights is None else (
            pd.Series(weights).groupby(groups, sort=True).mean().to_numpy())
        model.fit(np.asarray(X, dtype=np.float32), y, qid=groups, sample_weight=group_weights)
        booster = model.get_booster()
        booster.feature_names = self.features
        return booster


ALGORITHMS: dict[str, type[Algorithm]] = {
    cls.name: cls for cls in (LogisticModel, RandomForestModel, XGBoostModel,
                               XGBoostRankerModel)
}

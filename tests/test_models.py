"""Models: the time split, metric correctness, the registry, and `matcher train` end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from sklearn.metrics import ndcg_score

from matcher import evaluation, metrics, registry
from matcher.algorithms import ALGORITHMS
from matcher.errors import ArtifactIntegrityError
from matcher.features import FEATURES, FeatureSession

from .helpers import invoke, seed


@pytest.fixture
def pairs(db_url, engine):
    seed("--scale", "tiny", "--seed", "3")
    with engine.begin() as conn:
        return evaluation.labelled_pairs(FeatureSession(conn))


def test_time_split_trains_only_on_pairs_before_the_cutoff(pairs):
    split = evaluation.time_split(pairs, 0.25)
    assert split.train["as_of"].max() < split.cutoff <= split.test["as_of"].min()
    assert len(split.train) + len(split.test) == len(pairs)
    assert 0.15 < len(split.test) / len(pairs) < 0.35
    # rankers need each mentee's rows together
    assert split.train["mentee_id"].is_monotonic_increasing


def test_labelled_pairs_leave_out_ignored_and_unfinished(pairs, engine):
    with engine.connect() as conn:
        counted = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM interactions WHERE status IN "
            "('completed', 'abandoned')) + (SELECT count(*) FROM recommendation_feedback "
            "WHERE action IN ('accepted', 'declined'))")).scalar_one()
    assert len(pairs) == counted
    assert set(pairs["label"]) == {0, 1}


def test_ndcg_matches_scikit_learn():
    rng = np.random.default_rng(1)
    groups, labels, scores, expected = [], [], [], {5: [], 10: []}
    for g in range(40):
        n = int(rng.integers(3, 15))
        y = (rng.random(n) < 0.3).astype(int)
        y[0] = 1
        s = rng.random(n)
        groups += [g] * n
        labels += list(y)
        scores += list(s)
        for k in (5, 10):
            expected[k].append(ndcg_score([y], [s], k=k))
    ours = metrics.ranking(np.array(groups), np.array(labels), np.array(scores))
    for k in (5, 10):
        assert ours[f"ndcg@{k}"] == pytest.approx(np.mean(expected[k]), abs=1e-12)


def test_ranking_metrics_of_a_known_group():
    # positives at model positions 2 and 4 out of 5
    result = metrics.group_ranking(np.array([0, 1, 0, 1, 0]), k=5)
    assert result["mrr"] == 0.5
    assert result["recall@5"] == 1.0
    assert result["hit_rate@5"] == 1.0
    assert result["map@5"] == pytest.approx((1 / 2 + 2 / 4) / 2)


def test_oracle_efficiency_is_one_for_the_oracle_and_lower_for_reversed():
    p = np.array([0.9, 0.1, 0.5, 0.3])
    assert metrics.oracle_efficiency([(p, p)], k=2)["oracle_efficiency"] == 1.0
    worst = metrics.oracle_efficiency([(-p, p)], k=2)
    assert worst["oracle_efficiency"] == pytest.approx((0.1 + 0.3) / (0.9 + 0.5))
    # a constant score earns no credit from ties
    assert metrics.oracle_efficiency([(np.zeros(4), p)], k=2)["oracle_efficiency"] < 1


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_registry_round_trip_gives_identical_predictions(name, pairs, engine):
    model = ALGORITHMS[name](list(FEATURES))
    evaluation.fit(model, pairs)
    X = evaluation.matrix(pairs)
    with engine.begin() as conn:
        version = registry.register(conn, model, training_window={}, row_counts={},
                                    metrics={})
    with engine.connect() as conn:
        loaded = registry.load(conn, version)
    np.testing.assert_array_equal(model.predict(X), loaded.model.predict(X))
    contributions = loaded.model.contributions(X[:50])
    assert contributions.shape == (50, len(FEATURES))
    assert np.abs(contributions).sum() > 0
    assert set(loaded.model.importances()) == set(FEATURES)


def test_contributions_add_up_to_the_score():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, len(FEATURES))).astype(np.float32)
    y = (X[:, 0] + X[:, 5] + rng.normal(size=400) > 0).astype(int)
    groups = np.repeat(np.arange(40), 10)
    for name, cls in ALGORITHMS.items():
        model = cls(list(FEATURES)).fit(X, y, groups)
        total = model.contributions(X).sum(axis=1)
        score = model.predict(X)
        if name == "logistic":
            score = np.log(score / (1 - score)) - model.pipeline[-1].intercept_[0]
        elif name == "xgboost":
            score = np.log(score / (1 - score))
        # what is left is a constant (the base score or base rate)
        assert np.std(score - total) < 1e-3, name


@pytest.mark.parametrize("name", ["xgboost", "xgboost_ranker"])
def test_rows_with_missing_values_among_complete_ones_get_their_own_predictions(name):
    """XGBoost's predictions are passed complete rows first; each row still gets its own."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3000, len(FEATURES))).astype(np.float32)
    X[rng.random(X.shape) < 0.02] = np.nan  # about a third of the rows miss a value
    y = (np.nan_to_num(X[:, 0]) + rng.normal(size=len(X)) > 0).astype(int)
    model = ALGORITHMS[name](list(FEATURES)).fit(X, y, np.repeat(np.arange(300), 10))
    one_at_a_time = np.array([model.booster.inplace_predict(row[None, :])[0] for row in X])
    assert 0.2 < np.isnan(X).any(axis=1).mean() < 0.5
    np.testing.assert_array_equal(model.predict(X), one_at_a_time)


def test_a_tampered_artifact_is_refused(pairs, engine):
    model = ALGORITHMS["random_forest"](list(FEATURES))
    evaluation.fit(model, pairs)
    with engine.begin() as conn:
        version = registry.register(conn, model, training_window={}, row_counts={},
                                    metrics={})
        conn.execute(sa.text("UPDATE model_versions SET artifact = artifact || '\\x00'::bytea "
                             "WHERE id = :id"), {"id": version})
    with engine.connect() as conn, pytest.raises(ArtifactIntegrityError, match="sha256"):
        registry.load(conn, version)


def test_train_registers_every_algorithm_promotes_one_and_writes_a_report(db_url, engine,
                                                                          tmp_path):
    seed("--scale", "tiny", "--seed", "5")
    out = invoke("train", "--report-dir", str(tmp_path), "--oracle-mentees", "40")
    assert "promoted" in out
    for name in ("logistic", "random_forest", "xgboost", "xgboost_ranker", "random",
                 "popularity", "content"):
        assert name in out
    listed = registry.versions(engine)
    assert sorted(r["algorithm"] for r in listed) == sorted(ALGORITHMS)
    assert [r["status"] for r in listed].count("champion") == 1
    champion = next(r for r in listed if r["status"] == "champion")
    assert champion["metrics"]["oracle_efficiency"] == max(
        r["metrics"]["oracle_efficiency"] for r in listed)
    report = (tmp_path / "report.md").read_text()
    assert "oracle_efficiency" in report
    for png in ("roc_pr.png", "calibration.png", "ndcg_at_k.png", "importances.png",
                "oracle_efficiency.png"):
        assert (tmp_path / png).stat().st_size > 1000

    # a second run evaluates the champion on the same holdout, beside the new models
    out = invoke("train", "--algorithms", "logistic", "--report-dir", str(tmp_path / "2"),
                 "--oracle-mentees", "40", "--no-promote")
    assert f"champion v{champion['id']}" in out
    assert registry.versions(engine)[0]["status"] == "candidate"


def test_promote_rollback_and_history(pairs, engine):
    ids = []
    with engine.begin() as conn:
        for name in ("logistic", "xgboost"):
            model = ALGORITHMS[name](list(FEATURES))
            evaluation.fit(model, pairs)
            ids.append(registry.register(conn, model, training_window={}, row_counts={},
                                         metrics={}))
    invoke("models", "promote", str(ids[0]), "--reason", "first")
    invoke("models", "promote", str(ids[1]), "--reason", "better")
    with engine.connect() as conn:
        assert registry.champion_id(conn) == ids[1]
    assert "is the champion again" in invoke("models", "rollback", "--reason", "oops")
    with engine.connect() as conn:
        assert registry.champion_id(conn) == ids[0]
    history = invoke("models", "history")
    assert "rollback: oops" in history and "better" in history
    statuses = {r["id"]: r["status"] for r in registry.versions(engine)}
    assert statuses == {ids[0]: "champion", ids[1]: "retired"}
    shown = pd.Series(invoke("models", "show", str(ids[0])))
    assert not shown.empty


class Touch:
    """Creates a file when an object of it is rebuilt: stands for any code an attacker would
    run inside the nightly job."""

    path = ""

    def __reduce__(self):
        import os

        return os.system, (f"touch {self.path}",)

    def __setstate__(self, state):
        open(state["path"], "w").close()


def _stored(engine, artifact: bytes, artifact_format: str, status: str = "candidate") -> int:
    """A model version written straight into the table, as a hostile writer would."""
    import hashlib

    with engine.begin() as conn:
        version = conn.execute(sa.text(
            "INSERT INTO model_versions (algorithm, features, artifact_format, artifact, "
            "artifact_sha256, status) VALUES ('logistic', :f, :fmt, :a, :h, :status) "
            "RETURNING id"), {"f": list(FEATURES), "fmt": artifact_format, "a": artifact,
                              "h": hashlib.sha256(artifact).hexdigest(),
                              "status": status}).scalar_one()
    return version


def test_a_pickle_payload_in_the_registry_never_runs(db_url, engine, tmp_path):
    import pickle

    from tests.test_cli import run_matcher

    seed("--scale", "tiny", "--seed", "3")
    marker = tmp_path / "pwned"
    evil = Touch()
    evil.path = str(marker)
    _stored(engine, pickle.dumps(evil), "joblib", "champion")
    result = run_matcher("score", env={"MATCHER_DATABASE_URL": db_url})
    assert result.returncode == 77, result.stderr
    assert "Traceback" not in result.stderr
    assert "pickle-based formats can run code" in result.stderr.strip().splitlines()[-1]
    assert not marker.exists()


def test_a_skops_payload_with_an_untrusted_type_never_runs(db_url, engine, tmp_path):
    import skops.io

    from matcher.errors import ArtifactRefused

    marker = tmp_path / "pwned"
    evil = Touch()
    evil.__dict__["path"] = str(marker)
    payload = skops.io.dumps(evil)
    version = _stored(engine, payload, "skops")
    with engine.connect() as conn, pytest.raises(ArtifactRefused, match="tests.test_models.Touch"):
        registry.load(conn, version)
    assert not marker.exists()
    # a trusted pipeline smuggling the object inside is refused just the same
    from sklearn.impute import SimpleImputer

    imputer = SimpleImputer()
    imputer.smuggled = evil
    version = _stored(engine, skops.io.dumps(imputer), "skops")
    with engine.connect() as conn, pytest.raises(ArtifactRefused):
        registry.load(conn, version)
    assert not marker.exists()


def test_with_a_signing_key_only_signed_artifacts_load(pairs, engine, monkeypatch):
    monkeypatch.setenv("MATCHER_MODEL_KEY", "k" * 32)
    model = ALGORITHMS["xgboost"](list(FEATURES))
    evaluation.fit(model, pairs)
    other = ALGORITHMS["logistic"](list(FEATURES))
    evaluation.fit(other, pairs)
    with engine.begin() as conn:
        signed = registry.register(conn, model, training_window={}, row_counts={}, metrics={})
        forged = registry.register(conn, other, training_window={}, row_counts={}, metrics={})
    with engine.connect() as conn:
        assert registry.load(conn, signed).algorithm == "xgboost"
    # A writer without the key swaps in another artifact, sha256 and all.
    with engine.begin() as conn:
        conn.execute(sa.text(
            "UPDATE model_versions f SET artifact = s.artifact, artifact_sha256 = "
            "s.artifact_sha256 FROM model_versions s WHERE f.id = :forged AND s.id = :signed "
            ), {"forged": forged, "signed": signed})
        conn.execute(sa.text("UPDATE model_versions SET algorithm = 'xgboost', "
                             "artifact_format = 'xgboost-ubj' WHERE id = :forged"),
                     {"forged": forged})
    from matcher.errors import ArtifactRefused

    with engine.connect() as conn, pytest.raises(ArtifactRefused, match="signature is not valid"):
        registry.load(conn, forged)
    monkeypatch.setenv("MATCHER_MODEL_KEY", "another key of 32 characters....")
    with engine.connect() as conn, pytest.raises(ArtifactRefused, match="signature"):
        registry.load(conn, signed)


def test_predicting_with_an_unfitted_model_says_so():
    from matcher.errors import NotFitted

    for cls in ALGORITHMS.values():
        with pytest.raises(NotFitted, match="not fitted"):
            cls(list(FEATURES)).predict(np.zeros((2, len(FEATURES)), dtype=np.float32))


def test_thin_history_never_promotes_on_an_undefined_metric(db_url, engine, tmp_path):
    seed("--scale", "tiny", "--seed", "3")
    with engine.begin() as conn:  # an imported programme: no ground truth, no feedback,
        conn.execute(sa.text("DELETE FROM synthetic_truth.world"))  # one pair per mentee
        conn.execute(sa.text("DELETE FROM recommendation_feedback"))
        conn.execute(sa.text(
            "DELETE FROM interactions i USING (SELECT id, row_number() OVER (PARTITION BY "
            "mentee_id ORDER BY requested_at) AS n FROM interactions WHERE status IN "
            "('completed', 'abandoned')) e WHERE e.id = i.id AND e.n > 1"))
    out = invoke("train", "--report-dir", str(tmp_path), "--algorithms", "logistic,xgboost")
    assert "ndcg@10 is undefined" in (tmp_path / "report.md").read_text()
    assert "roc_auc" in out
    champion = registry.versions(engine)
    assert [r["status"] for r in champion].count("champion") == 1
    assert "nan" not in out.splitlines()[-2]  # the decision line

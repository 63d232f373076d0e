"""Retraining from feedback: nights of score -> simulated feedback -> retrain, the promotion
rules, a forced promotion and its rollback, feedback import, and a broken client's feedback."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from matcher import evaluation, registry
from matcher.algorithms import ALGORITHMS, PARAMETERS, LogisticModel
from matcher.errors import InputError
from matcher.examination import from_answered_share, propensities
from matcher.features import FEATURES, FeatureSession
from matcher.importer import import_feedback
from matcher.off_policy import Comparison, Estimate
from matcher.retraining import RetrainPolicy, off_policy_guard, retrain, weighted
from matcher.synthetic import oracle

from .helpers import invoke, seed


class ShuffledLogistic(LogisticModel):
    """A deliberately bad model: logistic regression on shuffled labels."""

    name = "shuffled_logistic"

    def fit(self, X, y, groups, weights=None):
        return super().fit(X, np.random.default_rng(0).permutation(y), groups, weights)


@pytest.fixture
def shuffled_algorithm(monkeypatch):
    monkeypatch.setitem(ALGORITHMS, ShuffledLogistic.name, ShuffledLogistic)
    monkeypatch.setitem(PARAMETERS, ShuffledLogistic.name, PARAMETERS[LogisticModel.name])


def _champion(engine) -> tuple[int, float]:
    """The champion's id and its oracle efficiency on 200 sampled active mentees, now."""
    with engine.begin() as conn:
        champion = registry.load_champion(conn)
        session = FeatureSession(conn)
        truth = oracle.oracle_sample(session, conn, datetime.now(UTC), 200)
    scores = evaluation.model_scorer(champion.model)(truth.frame)
    return champion.version_id, truth.evaluate(scores)["oracle_efficiency"]


def _register_weak_champion(engine) -> int:
    """Train the shuffled-label model on the seeded history and make it the champion."""
    with engine.begin() as conn:
        split = evaluation.time_split(evaluation.labelled_pairs(FeatureSession(conn)))
        model = ShuffledLogistic(list(FEATURES))
        evaluation.fit(model, split.train)
        version = registry.register(conn, model, row_counts={}, metrics={},
                                    training_window={"trained_before": split.cutoff.isoformat()})
        registry.promote(conn, version, "test: a deliberately weak first model", forced=True)
    return version


def _world_with_a_champion(seed_value: int, tmp_path) -> None:
    """A tiny seeded world with a logistic champion from `matcher train`."""
    seed("--scale", "tiny", "--seed", str(seed_value))
    invoke("train", "--algorithms", "logistic", "--oracle-mentees", "50", "--report-dir",
           str(tmp_path / "train"))


def _after_one_night(tmp_path) -> None:
    """One night of the loop (score, simulated feedback, retrain), then the next night's
    lists are published and await feedback."""
    invoke("score")
    invoke("simulate-feedback")
    invoke("retrain", "--report-dir", str(tmp_path / "night1"))
    invoke("score")


def _decisions(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT * FROM model_decisions ORDER BY id"), conn)


def test_nightly_loop_lifts_a_weak_champion_and_never_loses_ground(
        db_url, engine, tmp_path, shuffled_algorithm):
    seed("--scale", "tiny", "--seed", "21")
    weak = _register_weak_champion(engine)
    champions = [_champion(engine)]
    for night in range(3):
        invoke("score")
        invoke("simulate-feedback")
        output = invoke("retrain", "--algorithms", "logistic", "--report-dir",
                        str(tmp_path / f"night{night}"))
        assert "pass" in output and (tmp_path / f"night{night}" / "report.md").exists()
        champions.append(_champion(engine))
    efficiencies = [e for _, e in champions]
    # The weak first model is replaced, and no later night promotes a model that ranks worse
    # against the ground truth (beyond the oracle guard's tolerance, 0.01).
    assert champions[-1][0] != weak
    assert efficiencies[-1] > efficiencies[0] + 0.2, efficiencies
    assert all(b >= a - 0.01 for a, b in zip(efficiencies, efficiencies[1:], strict=False)), efficiencies
    decisions = _decisions(engine)
    assert len(decisions) == 3 and decisions["outcome"].iloc[0] == "promoted"
    with engine.connect() as conn:
        simulated = conn.execute(sa.text(
            "SELECT count(DISTINCT batch_id) FROM recommendation_feedback "
            "WHERE batch_id IS NOT NULL")).scalar_one()
    assert simulated == 3


def test_a_worse_challenger_is_kept_out_forced_in_logged_and_rolled_back(
        db_url, engine, tmp_path, shuffled_algorithm):
    _world_with_a_champion(22, tmp_path)
    invoke("score")
    invoke("simulate-feedback")
    with engine.connect() as conn:
        good = registry.champion_id(conn)

    kept = retrain(engine, algorithms=[ShuffledLogistic.name], oracle_mentees=100, oracle_source=oracle.source(100))
    assert kept.outcome == "kept" and kept.promoted is None
    assert "kept the champion" in kept.decision
    assert not next(g for g in kept.guards if g.name == "ndcg@10").passed
    with engine.connect() as conn:
        assert registry.champion_id(conn) == good

    dry = retrain(engine, algorithms=["logistic"], oracle_mentees=100, oracle_source=oracle.source(100), dry_run=True)
    assert dry.outcome == "dry_run" and dry.promoted is None

    forced = retrain(engine, algorithms=[ShuffledLogistic.name], oracle_mentees=100, oracle_source=oracle.source(100),
                     force=True)
    assert forced.outcome == "promoted" and forced.forced
    with engine.connect() as conn:
        assert registry.champion_id(conn) == forced.promoted
    assert "(forced)" in invoke("models", "history").splitlines()[0]
    assert "--force despite" in invoke("models", "history").splitlines()[0]
    assert _decisions(engine)["outcome"].tolist() == ["kept", "dry_run", "promoted"]
    assert _decisions(engine)["forced"].tolist() == [False, False, True]

    invoke("models", "rollback", "--reason", "test: the forced model was worse")
    with engine.connect() as conn:
        assert registry.champion_id(conn) == good
    invoke("score")
    with engine.connect() as conn:
        used = conn.execute(sa.text(
            "SELECT b.model_version_id FROM published_batch p "
            "JOIN recommendation_batches b ON b.id = p.batch_id")).scalar_one()
    assert used == good


def _published_rows(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(
            "SELECT mentee_id, mentor_id, rank, generated_at FROM current_recommendations "
            "ORDER BY mentee_id, rank"), conn)


def _feedback_csv(path, rows: pd.DataFrame, action: str, shown_at: datetime) -> None:
    rows.assign(shown_at=shown_at.isoformat(), action=action,
                acted_at=shown_at.isoformat())[
        ["mentee_id", "mentor_id", "rank", "shown_at", "action", "acted_at"]].to_csv(
        path, index=False)


def test_feedback_import_takes_only_answers_to_published_recommendations(
        db_url, engine, tmp_path):
    _world_with_a_champion(23, tmp_path)
    invoke("score")
    published = _published_rows(engine)
    now = datetime.now(UTC)
    good = published.head(3)
    wrong_rank = published.iloc[[3]].assign(rank=lambda f: f["rank"] + 1)
    stranger = published.iloc[[4]].assign(mentee_id="nobody")
    path = tmp_path / "feedback.csv"
    _feedback_csv(path, pd.concat([good, wrong_rank, stranger]), "accepted", now)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM recommendation_feedback")).scalar_one()
    with pytest.raises(InputError) as error:
        import_feedback(engine, path)
    message = str(error.value)
    assert "feedback.csv:5: column 'mentor_id'" in message
    assert "no published recommendation" in message and "nothing was imported" in message
    assert "feedback.csv:6: column 'mentee_id': unknown mentee 'nobody'" in message
    assert message.count("feedback.csv:") == 2  # the stranger once, not also as unpublished
    with engine.connect() as conn:
        assert conn.execute(sa.text(
            "SELECT count(*) FROM recommendation_feedback")).scalar_one() == before

    _feedback_csv(path, good, "accepted", now)
    assert "3 new" in invoke("feedback", "import", str(path))
    assert "0 new, 0 updated" in invoke("feedback", "import", str(path))
    with engine.connect() as conn:
        batches = conn.execute(sa.text(
            "SELECT DISTINCT f.batch_id = p.batch_id FROM recommendation_feedback f, "
            "published_batch p WHERE f.batch_id IS NOT NULL")).scalars().all()
    assert batches == [True]


def test_a_broken_client_declining_everything_blocks_promotion(db_url, engine, tmp_path):
    _world_with_a_champion(24, tmp_path)
    _after_one_night(tmp_path)
    path = tmp_path / "broken.csv"
    _feedback_csv(path, _published_rows(engine), "declined", datetime.now(UTC))
    invoke("feedback", "import", str(path))
    run = retrain(engine, algorithms=["logistic"], oracle_mentees=100, oracle_source=oracle.source(100),
                  policy=RetrainPolicy(margin=-1.0))  # any challenger would do, but for this
    assert run.outcome == "kept" and run.promoted is None
    mix = next(c for c in run.checks if c.name == "action mix")
    assert not mix.passed and "'declined'" in mix.detail
    assert "action mix" in run.decision


def test_a_flood_of_feedback_for_one_mentor_blocks_promotion(db_url, engine, tmp_path):
    _world_with_a_champion(25, tmp_path)
    _after_one_night(tmp_path)
    published = _published_rows(engine)
    counts = published["mentor_id"].value_counts()
    flooded = counts[counts >= 20].index[-1]  # a mentor on few lists gets all the feedback
    path = tmp_path / "flood.csv"
    _feedback_csv(path, published[published["mentor_id"] == flooded], "accepted",
                  datetime.now(UTC))
    invoke("feedback", "import", str(path))
    run = retrain(engine, algorithms=["logistic"], oracle_mentees=100, oracle_source=oracle.source(100))
    flood = next(c for c in run.checks if c.name == "one mentor flooded")
    assert not flood.passed and repr(flooded) in flood.detail
    assert run.outcome == "kept" and "one mentor flooded" in run.decision


def test_a_retrain_with_nothing_new_to_test_on_keeps_the_champion_and_says_why(
        db_url, engine, tmp_path):
    _world_with_a_champion(26, tmp_path)
    with engine.begin() as conn:  # as if the champion had been trained on everything so far
        conn.execute(sa.text(
            "UPDATE model_versions SET training_window = jsonb_set(training_window, "
            "'{trained_before}', to_jsonb(now()::text)) WHERE status = 'champion'"))
        champion = registry.champion_id(conn)
    output = invoke("retrain")
    assert "kept the champion" in output and "only 0 labelled pairs since" in output
    with engine.connect() as conn:
        assert registry.champion_id(conn) == champion
    decisions = _decisions(engine)
    assert decisions["outcome"].tolist() == ["kept"] and decisions["challenger_id"].isna().all()


def test_position_bias_weights_grow_with_rank_and_are_capped():
    answered = pd.DataFrame({"rank": [1, 2, 3, 10], "shown": [1000, 1000, 1000, 1000],
                             "answered": [800, 400, 200, 20]})
    p = propensities(from_answered_share(10, answered), [1, 2, 3, 10], floor=0.1)
    assert p == pytest.approx({1: 1.0, 2: 0.5, 3: 0.25, 10: 0.1})
    train = pd.DataFrame({"source": ["interaction", "feedback", "feedback", "feedback"],
                          "rank": [np.nan, 1, 3, 7]})
    assert weighted(train, p, 0.1)["weight"].tolist() == [1.0, 1.0, 4.0, 10.0]


def test_explored_feedback_gives_both_models_an_off_policy_estimate(db_url, engine, tmp_path):
    _world_with_a_champion(27, tmp_path)
    _after_one_night(tmp_path)  # night 2's lists are explored and await feedback
    invoke("simulate-feedback")
    output = invoke("retrain", "--algorithms", "logistic,xgboost", "--report-dir",
                    str(tmp_path / "night2"))
    assert "off-policy estimate: " in output and "accepted per list (DR): challenger" in output
    report = (tmp_path / "night2" / "report.md").read_text()
    assert "## Off-policy estimates (logged feedback)" in report
    assert "| champion |" in report and "| challenger |" in report
    comparison = _decisions(engine)["comparison"].iloc[-1]
    for name in ("champion", "challenger"):
        estimate = comparison["off_policy"][name]
        assert estimate["dr_low"] <= estimate["dr"] <= estimate["dr_high"]
        assert 0 < estimate["support"] <= 1 and estimate["lists"] > 0
    rules = {g["name"] for g in comparison["guards"]}
    assert {"off-policy estimate", "coverage of the published lists"} <= rules


def _comparison(challenger_dr: float, low: float, high: float, support: float):
    def estimate(dr, support):
        return Estimate(ips=dr, snips=dr, dr=dr, dr_low=dr - 0.1, dr_high=dr + 0.1,
                        snips_low=dr - 0.1, snips_high=dr + 0.1, support=support, lists=5000)

    difference = challenger_dr - 1.0
    return Comparison({"champion": estimate(1.0, 0.95),
                       "challenger": estimate(challenger_dr, support)},
                      {("challenger", "champion"): (difference, low, high)}, [7], {})


@pytest.mark.parametrize(("challenger", "low", "high", "support", "passed", "says"), [
    (1.02, -0.01, 0.05, 0.8, True, "accepted per list"),     # no worse: promoted
    (0.96, -0.07, -0.01, 0.8, False, "accepted per list"),   # may be 7% worse: kept out
    (0.80, -0.30, -0.10, 0.6, False, "clearly worse"),       # worse even at best
    (0.80, -0.30, -0.10, 0.2, True, "not decided: the logs showed only 20%"),
    (0.98, -0.09, 0.05, 0.3, True, "not decided: the logs showed only 30%"),
    (0.99, -0.20, 0.18, 0.8, True, "not decided: too little logged feedback"),
    (0.80, -0.60, -0.10, 0.8, False, "clearly worse"),       # noisy, yet worse at best
])
def test_the_off_policy_rule_decides_only_where_the_logs_can_tell(
        challenger, low, high, support, passed, says):
    check = off_policy_guard(_comparison(challenger, low, high, support), 0.05, 0.5)
    assert check.passed is passed and says in check.detail
    assert off_policy_guard(None, 0.05, 0.5).passed


def test_a_weak_champions_poorly_answered_lists_do_not_block_its_replacement(
        db_url, engine, tmp_path, shuffled_algorithm):
    seed("--scale", "tiny", "--seed", "29")  # the seeded history: about half accepted
    _register_weak_champion(engine)
    invoke("score")
    published = _published_rows(engine)
    path = tmp_path / "answers.csv"
    now = datetime.now(UTC)
    _feedback_csv(path, published, "declined", now)
    text = path.read_text().splitlines()
    accepted = {i for i in range(1, len(text)) if i % 10 == 0}  # a tenth accepted
    path.write_text("\n".join(line.replace(",declined,", ",accepted,") if i in accepted
                              else line for i, line in enumerate(text)) + "\n")
    invoke("feedback", "import", str(path))
    run = retrain(engine, algorithms=["logistic"], oracle_mentees=100)
    mix = next(c for c in run.checks if c.name == "action mix")
    assert mix.passed and "no earlier feedback on this champion's lists" in mix.detail

"""Readable reasons: what helped a pick, what held it back, and the JSON for programs, on rows
small enough to check by eye."""

from __future__ import annotations

import json

import numpy as np

from matcher.reasons import Context, explain

FEATURES = ["skill_coverage", "shared_language", "timezone_diff_hours", "mentor_completed",
            "mentor_abandoned", "mentee_requests"]


def _context(n: int, moved=False, seats=2) -> Context:
    return Context(skills_wanted=np.full(n, 4), domains_wanted=np.full(n, 2),
                   free_seats=np.full(n, seats), moved=np.full(n, moved))


def test_a_feature_that_pushed_the_score_down_is_said_as_despite_not_as_a_reason():
    X = np.array([[0.75, 0.0, 0.0, 4.0, 1.0, 3.0]])
    contributions = np.array([[0.9, -0.6, 0.3, 0.2, 0.05, 1.5]])
    (text,), (said,) = explain(contributions, X, FEATURES, _context(1))
    assert said == ("has 3 of the 4 skills asked for; same time zone; completed 4 of 5 "
                    "mentorships; despite: no shared language listed")
    items = json.loads(text)
    assert [i["feature"] for i in items] == ["skill_coverage", "timezone_diff_hours",
                                             "mentor_completed", "shared_language"]
    assert items[-1] == {"feature": "shared_language", "value": 0.0, "contribution": -0.6}
    assert text == json.dumps(items)


def test_features_about_the_mentee_alone_are_never_reasons():
    X = np.array([[0.5, 1.0, 2.0, 0.0, 0.0, 7.0]])
    contributions = np.array([[0.1, 0.2, 0.0, 0.0, 0.0, -3.0]])
    (text,), (said,) = explain(contributions, X, FEATURES, _context(1))
    assert "mentee_requests" not in text and "despite" not in said
    assert said == "speaks a language in common; has 2 of the 4 skills asked for"


def test_a_small_negative_contribution_is_not_worth_a_despite():
    X = np.array([[1.0, 0.0, 3.0, 0.0, 0.0, 0.0]])
    contributions = np.array([[2.0, -0.1, -0.5, 0.0, 0.0, 0.0]])
    (_,), (said,) = explain(contributions, X, FEATURES, _context(1))
    assert said == "has all 4 skills asked for; despite: time zones 3 hours apart"


def test_a_pick_moved_in_for_its_free_seats_says_so_first():
    X = np.array([[0.25, 1.0, 0.0, 0.0, 0.0, 0.0]] * 2)
    contributions = np.array([[0.4, 0.3, 0.0, 0.0, 0.0, 0.0]] * 2)
    context = _context(2, seats=3)
    context.moved = np.array([True, False])
    _, said = explain(contributions, X, FEATURES, context)
    assert said[0].startswith("has free seats (3 open); has 1 of the 4 skills asked for")
    assert "free seats" not in said[1]


def test_missing_values_have_their_own_words():
    X = np.array([[np.nan, np.nan, np.nan, np.nan, np.nan, np.nan]])
    contributions = np.array([[0.3, -0.9, 0.2, 0.0, 0.0, 0.0]])
    (text,), (said,) = explain(contributions, X, FEATURES, _context(1))
    assert said == "skills unknown; time zone unknown; despite: languages unknown"
    assert json.loads(text)[0]["value"] is None


def test_the_column_at_a_time_version_says_what_the_row_by_row_one_says():
    from matcher.features import FEATURES
    from tests.reasons_reference import explain_row_by_row

    rng = np.random.default_rng(4)
    n, features = 500, list(FEATURES)
    X = np.round(rng.random((n, len(features))) * rng.integers(1, 6, len(features)), 2)
    X[rng.random(X.shape) < 0.1] = np.nan
    X[:, features.index("shared_language")] = rng.integers(0, 2, n)
    contributions = rng.normal(size=X.shape)
    context = Context(skills_wanted=rng.integers(0, 5, n), domains_wanted=rng.integers(0, 3, n),
                      free_seats=rng.integers(1, 4, n), moved=rng.random(n) < 0.2,
                      explored=rng.random(n) < 0.1, pinned=rng.random(n) < 0.05)
    assert explain(contributions, X, features, context) == explain_row_by_row(
        contributions, X, features, context)
    assert explain(contributions, X, features) == explain_row_by_row(contributions, X,
                                                                     features)

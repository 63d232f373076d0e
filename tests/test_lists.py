"""The pure steps between database steps, on frames small enough to check by eye: top-K
selection, exposure capping, coverage and calibration (readable reasons: test_reasons.py)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from matcher import examination, metrics
from matcher.chunks import in_ranked_order, top_per_mentee
from matcher.lists import choose, exposure_figures, pick_lists

# Three mentees (1, 2, 3), four mentors (10, 20, 30, 40); scored candidate pairs.
POOL = pd.DataFrame([
    (1, 10, 0.90), (1, 20, 0.80), (1, 30, 0.70), (1, 40, 0.10),
    (2, 10, 0.95), (2, 30, 0.50), (2, 20, 0.50), (2, 40, 0.20),  # a tie: 20 before 30
    (3, 10, 0.60), (3, 40, 0.30),                                # only two candidates
], columns=["mentee_id", "mentor_id", "score"])


def _lists(chosen: pd.DataFrame) -> dict[int, list[int]]:
    return {int(m): list(g.sort_values("rank")["mentor_id"])
            for m, g in chosen.groupby("mentee_id")}


def test_top_k_keeps_each_mentees_best_and_breaks_ties_by_the_lower_mentor_id():
    best = top_per_mentee(POOL, 2)
    assert {m: list(g["mentor_id"]) for m, g in best.groupby("mentee_id")} == {
        1: [10, 20], 2: [10, 20], 3: [10, 40]}


@pytest.mark.parametrize("n", [1, 3, 8, 50])
def test_top_k_equals_sorting_every_row_with_ties_and_uneven_shuffled_mentees(n):
    rng = np.random.default_rng(n)
    mentees = np.repeat(np.arange(60), rng.integers(1, 12, size=60))
    pool = pd.DataFrame({"mentee_id": mentees,
                         "mentor_id": rng.permutation(len(mentees)) + 100,
                         "score": rng.integers(0, 5, size=len(mentees)) / 4})  # many ties
    pool = pool.sample(frac=1, random_state=n).set_index(rng.permutation(len(pool)) * 7)
    everything = pool.sort_values(["mentee_id", "score", "mentor_id"],
                                  ascending=[True, False, True])
    expected = everything.groupby("mentee_id").head(n)
    pd.testing.assert_frame_equal(top_per_mentee(pool, n), expected)
    # rows already in that order (a night's pool) are taken as they are
    assert in_ranked_order(everything) and not in_ranked_order(pool)
    pd.testing.assert_frame_equal(top_per_mentee(everything, n), expected)


def test_lists_are_ranked_one_to_k_by_score():
    chosen, _ = choose(POOL, 3, {10: 1, 20: 1, 30: 1, 40: 1}, None)
    assert _lists(chosen) == {1: [10, 20, 30], 2: [10, 20, 30], 3: [10, 40]}
    assert list(chosen[chosen["mentee_id"] == 1]["rank"]) == [1, 2, 3]


def test_an_exposure_cap_holds_even_if_a_mentee_gets_fewer_than_k():
    # Caps at R = 1: one list each for 10, 20, 40; two for 30. Greedy from the best pair:
    # (2,10) takes 10; (1,10) capped; (1,20) takes 20; (1,30); (3,10) capped; (2,20) capped;
    # (2,30) takes 30's second; (3,40); (2,40) and (1,40): those mentees have 2 already.
    chosen, figures = choose(POOL, 2, {10: 1, 20: 1, 30: 2, 40: 1}, 1.0)
    assert _lists(chosen) == {1: [20, 30], 2: [10, 30], 3: [40]}
    assert figures["max_lists_per_mentor"] == 2
    assert figures["mentors_recommended_share"] == 1.0


def test_exposure_figures_of_an_even_and_an_uneven_spread():
    even = pd.DataFrame({"mentor_id": [10, 20, 30, 40]})
    uneven = pd.DataFrame({"mentor_id": [10, 10, 10, 10]})
    free = {10: 1, 20: 1, 30: 1, 40: 1}
    assert exposure_figures(even, free)["mentor_appearances_gini"] == 0.0
    skewed = exposure_figures(uneven, free)
    assert skewed["mentor_appearances_gini"] == pytest.approx(0.75)
    assert skewed["mentors_recommended_share"] == 0.25 and skewed["max_lists_per_mentor"] == 4


def test_coverage_counts_mentors_that_reach_some_top_k():
    groups = np.array([1, 1, 2, 2])
    items = np.array([10, 20, 10, 30])
    assert metrics.coverage(groups, items, np.array([0.9, 0.1, 0.8, 0.2]), k=1) == 1 / 3
    assert metrics.coverage(groups, items, np.array([0.1, 0.9, 0.2, 0.8]), k=1) == 2 / 3


def test_calibration_error_is_zero_when_predictions_match_observed_shares():
    y = np.array([0, 1, 0, 1, 1, 1])
    assert metrics.expected_calibration_error(y, np.array([.5, .5, .5, .5, 1, 1]), bins=3) == 0
    assert metrics.expected_calibration_error(y, np.zeros(6), bins=1) == pytest.approx(4 / 6)


def test_market_lists_carry_each_picks_own_pool_row_and_mark_the_picks_moved_in():
    rng = np.random.default_rng(5)
    mentees, per_mentee = 150, 9
    pool = pd.DataFrame({
        "mentee_id": np.repeat(np.arange(mentees), per_mentee),
        "mentor_id": np.concatenate([rng.choice(30, per_mentee, replace=False) + 100
                                     for _ in range(mentees)]),
        "score": rng.random(mentees * per_mentee),
        "p_accept": rng.random(mentees * per_mentee)})
    pool["feature"] = pool["mentee_id"] * 1000.0 + pool["mentor_id"]  # names its pair
    # shuffled, with labels that are not positions
    pool = pool.sample(frac=1, random_state=5).set_index(rng.permutation(len(pool)) * 3 + 1)
    options = SimpleNamespace(k=3, objective="market", max_exposure=None, explore=0.0)
    chosen, _, _, _ = pick_lists(pool, options, {m: 1 for m in range(100, 130)},
                                 examination.prior(3))
    assert len(chosen) == mentees * 3
    assert (chosen["feature"] == chosen["mentee_id"] * 1000.0 + chosen["mentor_id"]).all()
    best = {(e, m) for e, m in top_per_mentee(pool, 3)[["mentee_id", "mentor_id"]].to_numpy()}
    pairs = zip(chosen["mentee_id"], chosen["mentor_id"], strict=True)
    assert chosen["moved"].tolist() == [pair not in best for pair in pairs]
    assert 0 < chosen["moved"].sum() < len(chosen)  # one seat per mentor: many moved

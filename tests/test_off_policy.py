"""Off-policy estimates against the truth on a small simulated world: lists logged with
exploration, people who look at rank r with a known probability and accept with a known
one; the estimate of another policy's lists must land on that policy's true value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matcher.exploration import explore
from matcher.off_policy import compare, estimate, reward_model

K = 5
EXAM = 1.0 / np.log2(np.arange(2, K + 2))


def _world(n_mentees=3000, n_candidates=15, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(e, m, rng.uniform(0.05, 0.6)) for e in range(n_mentees)
            for m in range(n_candidates)]
    world = pd.DataFrame(rows, columns=["mentee_id", "mentor_id", "rho"])
    # the logging model's noisy score, and the model under evaluation's better one
    world["score"] = world["rho"] + rng.normal(0, 0.25, len(world))
    world["better"] = world["rho"] + rng.normal(0, 0.05, len(world))
    return world


def _top(world, column):
    ordered = world.sort_values(["mentee_id", column], ascending=[True, False])
    lists = ordered[ordered.groupby("mentee_id").cumcount() < K].copy()
    lists["rank"] = lists.groupby("mentee_id").cumcount() + 1
    return lists


def _true_value(world, lists):
    rho = lists.merge(world[["mentee_id", "mentor_id", "rho"]], on=["mentee_id", "mentor_id"],
                      suffixes=("", "_true"))
    return float((EXAM[rho["rank"] - 1] * rho["rho_true"]).sum() / lists["mentee_id"].nunique())


def _logged(world, share, seed=1):
    logged = explore(_top(world, "score"), world, share, seed)
    rng = np.random.default_rng([seed, 99])  # people draw independently of the lists
    examined = rng.random(len(logged)) < EXAM[logged["rank"] - 1]
    logged["accepted"] = (examined & (rng.random(len(logged)) < logged["rho"])).astype(int)
    return logged.rename(columns={"mentee_id": "list"})


def _target(world, column, q=None):
    lists = _top(world, column).rename(columns={"mentee_id": "list"})
    return lists.assign(q=lists["rho"] if q is None else q)[["list", "mentor_id", "rank", "q"]]


def test_the_logging_policy_is_estimated_by_its_own_mean():
    world = _world()
    logged = _logged(world, 0.0)
    own = logged[["list", "mentor_id", "rank"]].assign(q=0.3)
    result = estimate(logged, own, EXAM)
    observed = logged["accepted"].sum() / logged["list"].nunique()
    assert result.ips == pytest.approx(observed) and result.support == 1.0
    assert result.dr == pytest.approx(observed)  # the reward model cancels out on-policy
    assert result.dr_low < observed < result.dr_high


def test_another_policys_lists_are_estimated_within_ten_percent_of_the_truth():
    world = _world()
    logged = _logged(world, 0.3)
    truth = _true_value(world, _top(world, "better"))
    wrong_q = _target(world, "better", q=0.1)  # a reward model that is badly off
    estimates, gaps = compare(logged, {"better": wrong_q,
                                       "logging": _target(world, "score", q=0.1)}, EXAM)
    better = estimates["better"]
    assert better.support < 1  # it lists mentors the logs could never have shown
    assert better.snips == pytest.approx(truth, rel=0.10)
    assert better.dr_low < better.dr < better.dr_high
    # the better model is better than the logging one, and the paired interval says so
    difference, low, high = gaps[("better", "logging")]
    assert truth > _true_value(world, _top(world, "score"))
    assert difference > 0 and low <= difference <= high


def test_a_good_reward_model_makes_dr_accurate_where_the_logs_have_no_support():
    world = _world()
    logged = _logged(world, 0.3)
    truth = _true_value(world, _top(world, "better"))
    result = estimate(logged, _target(world, "better"), EXAM)  # q = the true rho
    assert result.dr == pytest.approx(truth, rel=0.05)
    assert result.ips < result.dr  # IPS counts the unsupported items as nothing


def test_the_reward_model_scale_matches_the_observed_acceptances():
    logged = pd.DataFrame({"rank": [1, 2, 1], "p_success": [0.5, 0.5, 0.25],
                           "accepted": [1, 0, 0]})
    expected = EXAM[0] * 0.5 + EXAM[1] * 0.5 + EXAM[0] * 0.25
    assert reward_model(logged, EXAM) == pytest.approx(1 / expected)

"""Logged exploration on three mentees: what may move, what never does, and the logged
probability of each shown item at its rank."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matcher.exploration import ALTERNATES_PER_SLOT, FIRST_EXPLORED_RANK, explore

K = 6


def _world():
    """Mentee 1 has 20 candidates, mentee 2 exactly K, mentee 3 only 3."""
    rows = [(e, m, 1 - m / 100) for e, n in ((1, 20), (2, K), (3, 3)) for m in range(n)]
    pool = pd.DataFrame(rows, columns=["mentee_id", "mentor_id", "score"]).assign(
        p_success=lambda f: f["score"])
    chosen = pool.sort_values(["mentee_id", "score"], ascending=[True, False])
    chosen = chosen[chosen.groupby("mentee_id").cumcount() < K].assign(
        rank=lambda f: f.groupby("mentee_id").cumcount() + 1)
    return chosen, pool


def test_without_a_share_nothing_moves_and_every_item_is_certain():
    chosen, pool = _world()
    out = explore(chosen, pool, 0.0, seed=1)
    assert (out["propensity"] == 1).all() and not out["explored"].any()
    assert list(out["mentor_id"]) == list(chosen["mentor_id"])


def test_explored_slots_draw_alternates_and_log_their_probability():
    chosen, pool = _world()
    runs = [explore(chosen, pool, 0.5, seed=s) for s in range(200)]
    slots = K - FIRST_EXPLORED_RANK + 1
    for out in runs:
        first = out[out["rank"] < FIRST_EXPLORED_RANK]
        assert (first["propensity"] == 1).all() and not first["explored"].any()
        assert not out.duplicated(["mentee_id", "mentor_id"]).any()
        assert set(zip(out["mentee_id"], out["mentor_id"], strict=True)) <= set(
            zip(pool["mentee_id"], pool["mentor_id"], strict=True))
        # mentee 2 has no alternates, mentee 3 has no explorable slot: nothing moves
        assert (out.loc[out["mentee_id"] > 1, "propensity"] == 1).all()
        one = out[(out["mentee_id"] == 1) & (out["rank"] >= FIRST_EXPLORED_RANK)]
        drawn = one[one["explored"]]
        assert (drawn["propensity"] == 0.5 / ALTERNATES_PER_SLOT).all()
        assert (one.loc[~one["explored"], "propensity"] == 0.5).all()
        assert (drawn["mentor_id"] >= K).all()  # alternates are not on the policy's list
        # dealt in turn: the alternate at place p (mentor K + p here) belongs to the slot
        # p % slots places below the first explored rank, for p < 3 x slots
        place = drawn["mentor_id"] - K
        assert (place % slots == drawn["rank"] - FIRST_EXPLORED_RANK).all()
        assert (place < ALTERNATES_PER_SLOT * slots).all()
        assert (drawn["p_success"] == drawn["mentor_id"].map(
            pool[pool["mentee_id"] == 1].set_index("mentor_id")["score"])).all()
        assert out.groupby("mentee_id")["score"].is_monotonic_decreasing.all()
    # the logged probability is the frequency: an alternate at its slot about 1/6 of runs
    placed = pd.concat(runs).query("mentee_id == 1 and explored")
    frequency = placed.groupby(["mentor_id", "rank"]).size() / len(runs)
    assert len(frequency) == slots * ALTERNATES_PER_SLOT
    assert frequency.to_numpy() == pytest.approx(np.full(len(frequency),
                                                         0.5 / ALTERNATES_PER_SLOT), abs=0.08)


def test_the_same_seed_explores_the_same_way():
    chosen, pool = _world()
    pd.testing.assert_frame_equal(explore(chosen, pool, 0.3, seed=7),
                                  explore(chosen, pool, 0.3, seed=7))


def test_a_mentee_short_of_alternates_deals_them_out_in_turn_and_logs_each_slots_own_count():
    # K + 4 candidates: 4 alternates for the 3 explorable slots of ranks 4-6, dealt as
    # (rank 4: places 0 and 3), (rank 5: place 1), (rank 6: place 2)
    rows = [(1, m, 1 - m / 100) for m in range(K + 4)]
    pool = pd.DataFrame(rows, columns=["mentee_id", "mentor_id", "score"])
    chosen = pool[pool["mentor_id"] < K].assign(rank=lambda f: f["mentor_id"] + 1)
    owned = {4: {K, K + 3}, 5: {K + 1}, 6: {K + 2}}
    seen = {rank: set() for rank in owned}
    for seed in range(100):
        out = explore(chosen, pool, 0.5, seed=seed)
        for row in out[out["explored"]].itertuples():
            assert row.mentor_id in owned[row.rank]
            assert row.propensity == 0.5 / len(owned[row.rank])
            seen[row.rank].add(row.mentor_id)
        assert (out.loc[out["rank"] < FIRST_EXPLORED_RANK, "propensity"] == 1).all()
    assert seen == owned

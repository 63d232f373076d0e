"""The matching market: how people read lists, congestion-aware lists on markets small enough
to solve by hand, the simulator and the planner's bound, and the nightly run end to end."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from matcher import examination, market
from matcher.db import sql
from matcher.synthetic.market import planner_bound, simulate

from .helpers import invoke, seed


def test_requests_stop_after_three_examined_ranks():
    q = market.request_probability(np.ones(5))
    np.testing.assert_allclose(q, [1, 1, 1, 0, 0])
    q = market.request_probability(np.full(4, 0.5), max_requests=1)
    np.testing.assert_allclose(q, [0.5, 0.25, 0.125, 0.0625])  # first examined only


def test_examination_is_the_prior_without_feedback_and_the_answered_share_with_it():
    np.testing.assert_allclose(examination.from_answered_share(3), 1 / np.log2([2, 3, 4]))
    answered = pd.DataFrame({"rank": [1, 2, 3], "shown": [1000, 1000, 10],
                             "answered": [500, 200, 10]})
    # rank 2 from data (0.2 / 0.5); rank 3 has too few rows: the prior, capped by rank 2
    np.testing.assert_allclose(examination.from_answered_share(3, answered), [1.0, 0.4, 0.4])


def test_the_fitted_examination_separates_position_from_the_quality_of_the_picks():
    # better picks sit higher and are answered more often when looked at: the answered
    # share makes low ranks look less read than they are; the fit recovers the truth
    rng = np.random.default_rng(0)
    k, n = 8, 20000
    truth = 1 / np.log2(np.arange(2, k + 2))
    rank = np.tile(np.arange(1, k + 1), n)
    p_success = np.clip(0.7 - 0.06 * rank + rng.normal(0, 0.1, len(rank)), 0.02, 0.98)
    answer_if_looked = 1 / (1 + np.exp(-(-0.5 + 1.2 * np.log(p_success / (1 - p_success)))))
    answered = rng.random(len(rank)) < truth[rank - 1] * answer_if_looked
    rows = pd.DataFrame({"rank": rank, "answered": answered.astype(int),
                         "p_success": p_success})
    share = rows.groupby("rank").agg(shown=("answered", "size"), answered=("answered", "sum"))
    naive = examination.from_answered_share(k, share.reset_index())
    fitted = examination.fit(rows, k)
    assert np.abs(fitted - truth).max() < 0.03
    assert np.abs(naive - truth).max() > 3 * np.abs(fitted - truth).max()


# Three mentees (1, 2, 3), four mentors. Mentor 10 is everyone's best but has one seat;
# mentees 1 and 2 have good alternatives (20 and 30), mentee 3 has none.
CANDIDATES = pd.DataFrame([
    (1, 10, 1.0, 0.90), (1, 20, 1.0, 0.80), (1, 30, 1.0, 0.10), (1, 40, 1.0, 0.05),
    (2, 10, 1.0, 0.90), (2, 20, 1.0, 0.10), (2, 30, 1.0, 0.80), (2, 40, 1.0, 0.05),
    (3, 10, 1.0, 0.90), (3, 20, 1.0, 0.10), (3, 30, 1.0, 0.10), (3, 40, 1.0, 0.20),
], columns=["mentee_id", "mentor_id", "p_accept", "p_success"])
SEATS = {10: 1, 20: 1, 30: 1, 40: 1}


def _firsts(chosen: pd.DataFrame) -> dict[int, int]:
    return dict(chosen[chosen["rank"] == 1][["mentee_id", "mentor_id"]].to_numpy().tolist())


def test_a_scarce_seat_goes_to_the_mentee_without_alternatives():
    result = market.market_lists(CANDIDATES, SEATS, 1, np.ones(1))
    assert _firsts(result.chosen) == {1: 20, 2: 30, 3: 10}
    assert result.estimated_successes == pytest.approx(0.9 + 0.8 + 0.8)
    assert result.estimated_successes_plain == pytest.approx(0.9)  # all three ask mentor 10
    loads = result.mentors.set_index("mentor_id")
    assert loads.loc[10, "expected_requests"] == 1 and loads.loc[10, "lists"] == 1


def test_every_mentee_keeps_k_and_the_lists_are_the_same_every_time():
    shuffled = CANDIDATES.sample(frac=1, random_state=1)
    first = market.market_lists(CANDIDATES, SEATS, 3, examination.prior(3))
    again = market.market_lists(shuffled, SEATS, 3, examination.prior(3))
    assert first.chosen.groupby("mentee_id").size().tolist() == [3, 3, 3]
    assert sorted(first.chosen.groupby("mentee_id")["rank"].apply(list).tolist()) == [
        [1, 2, 3]] * 3
    pd.testing.assert_frame_equal(first.chosen.drop(columns="row"),
                                  again.chosen.drop(columns="row"))
    for result, given in ((first, CANDIDATES), (again, shuffled)):  # each pick's row given
        at = given.iloc[result.chosen["row"]]
        assert (at[["mentee_id", "mentor_id"]].to_numpy()
                == result.chosen[["mentee_id", "mentor_id"]].to_numpy()).all()


def _random_candidates(rng, mentees=200, mentors=40, per_mentee=12) -> pd.DataFrame:
    """Candidates with random probabilities; a tenth of the pairs dropped, so pools are
    uneven (padded) and some hold fewer than the lists' K."""
    frame = pd.DataFrame({
        "mentee_id": np.repeat(np.arange(mentees), per_mentee),
        "mentor_id": np.concatenate([rng.choice(mentors, per_mentee, replace=False)
                                     for _ in range(mentees)]),
        "p_accept": rng.random(mentees * per_mentee),
        "p_success": rng.random(mentees * per_mentee)})
    short = frame["mentee_id"] % 17 == 0
    return pd.concat([frame[~short].sample(frac=0.9, random_state=3),
                      frame[short].groupby("mentee_id").head(3)])


def test_a_mentees_marginal_values_do_not_depend_on_which_other_mentees_are_computed():
    rng = np.random.default_rng(3)
    pool = market.Pool.from_frame(_random_candidates(rng))
    seats = rng.integers(0, 3, len(pool.mentors)).astype(float)
    q = market.request_probability(examination.prior(5))
    columns = market._plain_lists(pool, 5)
    accepted, successes = market._flows(pool, columns, q)
    every = market.marginal_value(pool, columns, q, accepted, successes, seats)
    some = np.flatnonzero(rng.random(len(columns)) < 0.3)
    alone = market.marginal_value(pool.rows(some), columns[some], q, accepted, successes,
                                  seats)
    assert np.isfinite(every).any() and (every[some] != 0).any()
    np.testing.assert_array_equal(alone, every[some])


def test_best_response_in_blocks_gives_the_same_lists_and_keeps_the_flows_of_its_lists(
        monkeypatch):
    rng = np.random.default_rng(5)
    frame = _random_candidates(rng)
    seats = {m: int(s) for m, s in zip(range(40), rng.integers(0, 3, 40), strict=True)}
    whole = market.market_lists(frame, seats, 5, examination.prior(5))
    monkeypatch.setattr(market, "BLOCK", 7)  # many blocks of moving mentees, a short last one
    blocked = market.market_lists(frame, seats, 5, examination.prior(5))
    pd.testing.assert_frame_equal(whole.chosen, blocked.chosen)
    assert whole.estimated_successes == blocked.estimated_successes
    # the flows updated from the moving mentees' requests are those of the lists found
    pool = market.Pool.from_frame(frame)
    seat = np.array([seats[m] for m in pool.mentors], dtype=float)
    q = market.request_probability(examination.prior(5))
    plain = market._plain_lists(pool, 5)
    for groups, damping in ((2, 0.5), (4, 0.0)):
        columns, chosen, estimate = market._best_response(
            pool, seat, q, plain, np.zeros(plain.shape), 12, groups, damping)
        with ThreadPoolExecutor(3) as threads:  # a round's blocks at once, in any order
            on_threads = market._best_response(pool, seat, q, plain, np.zeros(plain.shape),
                                               12, groups, damping, blocks_on=threads)
        np.testing.assert_array_equal(on_threads[0], columns)
        np.testing.assert_array_equal(on_threads[1], chosen)
        assert on_threads[2] == estimate
        assert (columns != plain).any()  # the market moved the lists
        assert estimate == market.estimated_successes(pool, columns, q, seat)
        assert estimate > market.estimated_successes(pool, plain, q, seat)


def test_with_more_seats_than_mentees_the_lists_are_by_expected_success():
    roomy = {m: 10 for m in SEATS}
    result = market.market_lists(CANDIDATES, roomy, 2, np.ones(2))
    assert _firsts(result.chosen) == {1: 10, 2: 10, 3: 10}
    assert (result.mentors["price"] == 0).all()


def test_the_planner_assigns_each_seat_once_and_each_mentee_once():
    mentee = CANDIDATES["mentee_id"].to_numpy()
    mentor = CANDIDATES["mentor_id"].to_numpy()
    value = (CANDIDATES["p_accept"] * CANDIDATES["p_success"]).to_numpy()
    assert planner_bound(mentee, mentor, value, SEATS) == pytest.approx(0.9 + 0.8 + 0.8)
    assert planner_bound(mentee, mentor, value, {10: 1}) == pytest.approx(0.9)


def test_the_simulator_counts_one_mentorship_per_seat_and_per_mentee():
    lists = pd.DataFrame({"mentee_id": [1, 2, 2], "mentor_id": [10, 10, 20], "rank": [1, 1, 2],
                          "p_accept": 1.0, "p_success": [0.5, 0.5, 0.25]})
    outcome = simulate(lists, {10: 1, 20: 1}, np.ones(2), runs=50)
    # mentor 10 takes whoever asks first; the other fills 20 only if it was mentee 2
    assert outcome.matches == pytest.approx(1.5, abs=0.3)
    assert outcome.seats_filled <= 2 and outcome.requests_to_full_mentors > 0
    nobody = simulate(lists.assign(p_accept=0.0), {10: 1, 20: 1}, np.ones(2), runs=5)
    assert nobody.matches == 0 and nobody.expected_successes == 0
    assert nobody.accept_when_free == 0 and nobody.least_share_to_full() == 0


def test_the_floor_on_requests_to_full_mentors_follows_from_seats_and_acceptance():
    # twenty mentees ask the one mentor with one seat, who accepts half of what reaches it
    lists = pd.DataFrame({"mentee_id": range(20), "mentor_id": 10, "rank": 1,
                          "p_accept": 0.5, "p_success": 1.0})
    outcome = simulate(lists, {10: 1}, np.ones(1), runs=200)
    assert outcome.accept_when_free == pytest.approx(0.5)
    assert outcome.least_share_to_full() == pytest.approx(1 - 1 / (0.5 * 20))
    share = outcome.requests_to_full_mentors / outcome.requests
    assert share >= outcome.least_share_to_full() - 0.02


@pytest.fixture
def trained(db_url, engine, tmp_path):
    seed("--scale", "tiny", "--seed", "11")
    invoke("train", "--algorithms", "xgboost", "--oracle-mentees", "20", "--report-dir",
           str(tmp_path / "success"))
    return engine


def test_the_nightly_run_publishes_market_lists_with_both_probabilities(trained):
    engine = trained
    out = invoke("train", "--target", "acceptance", "--algorithms", "logistic,xgboost_ranker",
                 "--oracle-mentees", "20")
    assert "promoted logistic" in out  # the ranker gives no probability: skipped
    invoke("score")
    with engine.connect() as conn:
        rows = pd.read_sql(sa.text("SELECT * FROM current_recommendations"), conn)
        load = pd.read_sql(sa.text(
            "SELECT bm.* FROM batch_mentors bm JOIN published_batch USING (batch_id)"), conn)
        eligible = dict(conn.execute(sql("scoring/free_capacity.sql")).all())
        parameters = conn.execute(sa.text(
            "SELECT parameters FROM recommendation_batches b JOIN published_batch p "
            "ON p.batch_id = b.id")).scalar()
        oversubscribed = conn.execute(sql("queries/oversubscribed_mentors.sql")).all()
        unlikely = conn.execute(sql("queries/mentees_unlikely_to_be_matched.sql"),
                                {"threshold": 0.0}).all()
    assert parameters["objective"] == "market"
    assert rows["p_accept"].between(0, 1).all() and rows["p_success"].between(0, 1).all()
    # an acceptance model: P(accept) differs between pairs of the same mentor
    assert rows.groupby("mentor_id")["p_accept"].nunique().max() > 1
    assert dict(zip(load["mentor_id"], load["free_seats"], strict=True)) == eligible
    assert load["lists"].sum() == len(rows)
    assert len(oversubscribed) == int((load["expected_requests"] > load["free_seats"]).sum())
    assert len(unlikely) == rows["mentee_id"].nunique()


def test_the_relevance_objective_keeps_each_mentees_top_k_by_score(trained):
    invoke("score", "--objective", "relevance")
    with trained.connect() as conn:
        rows = pd.read_sql(sa.text("SELECT * FROM current_recommendations"), conn)
    assert (rows["score"] == rows["p_success"]).all()
    for _, group in rows.groupby("mentee_id"):
        assert group.sort_values("rank")["score"].is_monotonic_decreasing


def test_evaluate_market_reports_the_published_lists_against_the_planners_bound(trained):
    invoke("score")
    out = invoke("evaluate", "--market", "--runs", "3")
    assert "expected successful mentorships" in out and "planner's bound" in out
    assert "hit a full mentor" in out


def test_mentors_answers_in_feedback_teach_the_acceptance_model(trained):
    from matcher.evaluation import acceptance_pairs
    from matcher.features import FeatureSession

    engine = trained
    with engine.begin() as conn:
        before = acceptance_pairs(FeatureSession(conn))
    invoke("score")
    invoke("simulate-feedback")
    with engine.begin() as conn:
        answers = pd.read_sql(sa.text(
            "SELECT f.action, f.mentor_response, f.mentor_id, bm.free_seats "
            "FROM recommendation_feedback f JOIN batch_mentors bm "
            "ON bm.batch_id = f.batch_id AND bm.mentor_id = f.mentor_id"), conn)
        after = acceptance_pairs(FeatureSession(conn))
    answered = answers[answers["mentor_response"].notna()]
    assert (answered["action"] == "accepted").all()
    assert set(answered["mentor_response"]) == {"accepted", "declined"}
    taken = answered[answered["mentor_response"] == "accepted"].groupby("mentor_id").size()
    assert (taken <= answered.groupby("mentor_id")["free_seats"].first()[taken.index]).all()
    from_feedback = after[after["source"] == "feedback"]
    assert len(after) == len(before) + len(answered) and len(from_feedback) == len(answered)
    assert from_feedback["label"].sum() == (answered["mentor_response"] == "accepted").sum()
    out = invoke("train", "--target", "acceptance", "--algorithms", "logistic",
                 "--oracle-mentees", "20")
    assert "logistic" in out


def test_the_training_report_shows_both_objectives_in_the_simulated_market(trained, tmp_path):
    out = invoke("train", "--algorithms", "logistic", "--oracle-mentees", "20",
                 "--report-dir", str(tmp_path))
    report = (tmp_path / "report.md").read_text()
    assert "## The champions' lists in the market (synthetic truth)" in report
    for objective in ("relevance", "market"):
        (row,) = [line for line in report.splitlines() if line.startswith(f"| {objective} |")]
        assert "of the planner's bound" not in row and " of " in row  # "0.61 of 80.3"
        assert row in out
    with trained.connect() as conn:  # nothing was published by the report
        assert conn.execute(sa.text("SELECT count(*) FROM recommendations")).scalar() == 0

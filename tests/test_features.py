"""Features: SQL equals the plain-Python reference, and no fact from after a pair's time leaks."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from matcher import best_mentors, features
from matcher.best_mentors import BLOCK, best_columns
from matcher.candidates import RUN_ENDS_PER_MENTEE, SHARED_SLOTS_CAP, Prefilter
from matcher.db import sql
from matcher.errors import InputError
from matcher.features import FEATURES, FeatureSession
from tests.feature_reference import reference_features
from tests.helpers import AS_OF, invoke, seed

EDGE_MENTORS = """mentor_id,domains,skills,industry,timezone,languages,style,experience_years,capacity,availability,bio,active
K,data science,python;sql,technology,Asia/Kolkata,Hindi,hands-on,10,2,mon 09:00-12:00;sun 23:00-02:00,,true
B,design,,media,Europe/Berlin,German,,,1,wed 18:00-20:00,,true
N,data science;design,figma,,America/New_York,English,casual,3,0,,,false
"""
EDGE_MENTEES = """mentee_id,domains,skills,industry,timezone,languages,preferred_style,experience_level,availability,goals,active
A,data science,python;statistics,technology,Europe/London,English,hands-on,junior,mon 04:00-06:00;mon 00:00-01:00,,true
Z,design,,,Asia/Kathmandu,German,,,wed 22:45-23:45,,true
Q,,,,UTC,English,casual,senior,,,true
"""
EDGE_INTERACTIONS = """mentee_id,mentor_id,requested_at,status,ended_at,rating
A,K,2025-01-01T10:00:00+00:00,completed,2025-03-01T10:00:00+00:00,5
Z,K,2025-02-01T10:00:00+00:00,declined,2025-02-03T10:00:00+00:00,
Q,K,2025-02-15T10:00:00+00:00,abandoned,2025-04-01T10:00:00+00:00,2
A,B,2025-05-01T10:00:00+00:00,active,,
Z,B,2025-03-01T10:00:00+00:00,declined,,
Q,N,2025-06-01T10:00:00+00:00,completed,2025-09-01T10:00:00+00:00,
A,K,2025-10-01T10:00:00+00:00,declined,2025-10-05T10:00:00+00:00,
"""


def _training(engine) -> pd.DataFrame:
    with engine.begin() as conn:
        return FeatureSession(conn).training_frame()


def _assert_matches_reference(engine, frame: pd.DataFrame) -> None:
    expected = reference_features(engine, frame[["mentee_id", "mentor_id", "as_of"]])
    actual = frame[list(FEATURES)].astype(float).reset_index(drop=True)
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-9, atol=1e-9)


@pytest.fixture
def edge_world(db_url, tmp_path, engine):
    for name, text in (("mentors", EDGE_MENTORS), ("mentees", EDGE_MENTEES),
                       ("interactions", EDGE_INTERACTIONS)):
        (tmp_path / f"{name}.csv").write_text(text)
    invoke("import", "--mentors", str(tmp_path / "mentors.csv"),
           "--mentees", str(tmp_path / "mentees.csv"),
           "--interactions", str(tmp_path / "interactions.csv"))
    return engine


def test_edge_cases_match_the_reference(edge_world):
    frame = _training(edge_world)
    assert len(frame) == 7
    _assert_matches_reference(edge_world, frame)
    by_pair = frame.set_index(["mentee_external_id", "mentor_external_id", "as_of"]).sort_index()
    first = by_pair.loc[("A", "K")].iloc[0]
    # London mon 04:00-06:00 and 00:00-01:00 UTC vs Kolkata (+05:30) mon 09:00-12:00 local =
    # 03:30-06:30 UTC and sun 23:00-02:00 local = sun 17:30-20:30 UTC: 2 shared hours.
    assert first["shared_hours"] == 2.0
    assert first["timezone_diff_hours"] == 5.5
    assert first["shared_language"] == 0  # English vs Hindi
    assert first["style_match"] == 1 and first["seniority_gap"] == 8
    assert first["skill_coverage"] == 0.5 and first["skill_jaccard"] == pytest.approx(1 / 3)
    z_b = by_pair.loc[("Z", "B")].iloc[0]
    assert z_b["skill_coverage"] == 0 and z_b["skill_jaccard"] == 0  # both have no skills
    assert z_b["style_stated"] == 0 and np.isnan(z_b["seniority_gap"])
    assert z_b["timezone_diff_hours"] == 4.75  # Kathmandu +05:45 vs Berlin +01:00
    # Kathmandu wed 22:45-23:45 = wed 17:00-18:00 UTC; Berlin wed 18:00-20:00 = 17:00-19:00
    assert z_b["shared_hours"] == 1.0


def test_seeded_world_features_match_the_reference(db_url, engine):
    seed("--mentors", "25", "--mentees", "120", "--seed", "5")
    frame = _training(engine)
    assert len(frame) > 50
    _assert_matches_reference(engine, frame)
    with engine.begin() as conn:
        feedback = FeatureSession(conn).feedback_frame()
    sample = feedback.sample(60, random_state=1)
    _assert_matches_reference(engine, sample)


def test_facts_dated_after_a_pair_do_not_change_its_features(db_url, engine):
    seed("--mentors", "25", "--mentees", "120", "--seed", "6")
    before = _training(engine)
    latest = before["as_of"].max()
    with engine.begin() as conn:  # future requests, outcomes and ratings for every mentor
        conn.execute(sa.text(
            "INSERT INTO interactions (mentee_id, mentor_id, requested_at, status, ended_at, rating) "
            "SELECT me.id, mo.id, CAST(:t AS timestamptz) + (mo.id || ' hours')::interval, "
            "'completed', CAST(:t AS timestamptz) + interval '90 days', 5 "
            "FROM mentors mo CROSS JOIN LATERAL "
            "(SELECT id FROM mentees ORDER BY id LIMIT 3) me"),
            {"t": pd.Timestamp(latest) + timedelta(days=1)})
    after = _training(engine)
    after = after[after["pair_id"].isin(before["pair_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(before.reset_index(drop=True), after)


def test_a_pairs_own_outcome_never_appears_in_its_features(db_url, engine):
    seed("--mentors", "25", "--mentees", "120", "--seed", "7")
    before = _training(engine).set_index("pair_id")
    features = list(FEATURES)
    # Flip one pair's outcome (and rating) at a time: its own features must not move.
    for pair_id in before[before["success"].notna()].index[:3]:
        flip = ("UPDATE interactions SET status = CASE status WHEN 'completed' THEN 'abandoned' "
                "ELSE 'completed' END, rating = 6 - coalesce(rating, 3) WHERE id = :id")
        with engine.begin() as conn:
            conn.execute(sa.text(flip), {"id": int(pair_id)})
        after = _training(engine).set_index("pair_id")
        pd.testing.assert_series_equal(before.loc[pair_id, features],
                                       after.loc[pair_id, features])
        assert before.loc[pair_id, "success"] != after.loc[pair_id, "success"]
        with engine.begin() as conn:
            conn.execute(sa.text(flip), {"id": int(pair_id)})


def test_the_prefilter_keeps_the_best_values_with_ties_to_the_lower_mentor():
    rng = np.random.default_rng(5)
    for trial in range(600):
        # small worlds, and wide ones where only the values reaching a floor are sorted;
        # now and then more mentees than one block
        rows = rng.integers(1, 30) if trial % 50 else BLOCK + rng.integers(1, 100)
        columns = rng.integers(1, 50 if trial % 2 else 400)
        value = rng.integers(0, rng.integers(1, 5), size=(rows, columns)).astype(np.float32)
        if trial % 4 == 1:  # negative values, and -0.0 tying with 0.0
            value = np.where(value == 0, np.float32(-0.0), value - 2)
        value[rng.random((rows, columns)) < rng.choice([0.2, 0.9, 1.0])] = -np.inf  # excluded
        n = int(rng.integers(1, 60 if trial % 3 else 8))
        expected = np.full((rows, min(n, columns)), -1)
        for r in range(rows):
            best = sorted((c for c in range(columns) if np.isfinite(value[r, c])),
                          key=lambda c: (-value[r, c], c))[:n]
            expected[r, :len(best)] = best
        got = np.full((rows, min(n, columns)), -1)
        counts, best = _best_columns_of_values(value, n)
        for r, (start, count) in enumerate(zip(np.cumsum(counts) - counts, counts,
                                               strict=True)):
            got[r, :count] = best[start:start + count]
        assert np.array_equal(got, expected)


def _best_columns_of_values(value, n):
    """best_columns of mentees whose values are written over every column (no terms, runs
    or prior): its selection alone."""
    rows, columns = value.shape
    nothing = np.zeros(rows + 1, np.int64)
    return best_columns(
        n, 32, np.zeros((0, columns), np.uint8), nothing, np.zeros(0, np.int64),
        np.zeros(0, np.float32), np.zeros(columns, np.float32),
        np.zeros((1, columns), np.int16), nothing, np.zeros(0, np.int64),
        np.zeros(0, np.int32), np.full(rows, -1), np.zeros((0, columns), np.int16),
        np.arange(rows + 1) * columns, np.tile(np.arange(columns), rows),
        value.reshape(-1))


def test_the_prefilter_ranks_each_mentee_by_the_sum_of_its_five_signals(db_url, engine,
                                                                        monkeypatch):
    monkeypatch.setattr(best_mentors, "BLOCK", 16)  # many blocks, a short last one
    seed("--mentors", "60", "--mentees", "150", "--seed", "9")
    n = 12
    with engine.begin() as conn:
        # some people free all week: pairs that share more hours than the cap
        for table in ("UPDATE mentors", "UPDATE mentees"):
            conn.execute(sa.text(table + " SET availability_utc = "
                                 "~(availability_utc # availability_utc) WHERE id % 7 = 0"))
        # and mentees whose week is cut into many runs (their shared hours come from the
        # product of slots, the others' from their runs)
        conn.execute(sa.text("UPDATE mentees SET availability_utc = repeat('0011', 168)::bit(672)"
                             " WHERE id % 5 = 1"))
        # many sets of languages (each a row of the prefilter's term matrix, which grows
        # for them), some with a language no mentor speaks, some with only that one
        languages = sorted(conn.execute(sa.text(
            "SELECT DISTINCT unnest(languages) FROM mentors")).scalars())
        conn.execute(sa.text(
            "UPDATE mentees SET languages = ARRAY(SELECT l FROM unnest(CAST(:languages AS text[]))"
            " WITH ORDINALITY AS t (l, i) WHERE (id / 3 >> (i::int - 1)) & 1 = 1) || '{tlh}'"
            " WHERE id % 3 = 2"), {"languages": languages})
        prefilter = Prefilter(conn, AS_OF, features.PRIOR_PARAMETERS)
        mentors = conn.execute(sql("candidates/eligible.sql"),
                               {"as_of": AS_OF, **features.PRIOR_PARAMETERS}).all()
        ids = conn.execute(sa.text("SELECT id FROM mentees WHERE active")).scalars().all()
        mentees = conn.execute(sql("candidates/mentees.sql"),
                               {"mentee_ids": ids, "as_of": AS_OF}).all()
        many_runs = [i for i in ids if i % 5 == 1]
        got = [pair for part in ([i for i in ids if i % 5 != 1], many_runs)
               for pair in zip(*(a.tolist() for a in prefilter.pairs(part, n)), strict=True)]
    assert len({m.availability for m in mentors}) > 1
    assert len({tuple(e.languages) for e in mentees}) > 20
    assert any(e.languages == ["tlh"] for e in mentees)

    def run_ends(e):
        return sum(a != b for a, b in zip("0" + e.availability, e.availability + "0",
                                          strict=True))

    runs = {e.id: run_ends(e) for e in mentees}
    assert max(runs[i] for i in ids if i % 5 != 1) <= RUN_ENDS_PER_MENTEE
    assert min(runs[i] for i in many_runs) > RUN_ENDS_PER_MENTEE

    def shares(v, wanted, offered):  # 1/n per shared term, n: the mentee's own distinct terms
        for _ in set(wanted) & set(offered):
            v = v + np.float32(1) / np.float32(max(len(set(wanted)), 1))
        return v

    expected, capped = [], 0
    for e in mentees:
        value = {}
        for m in mentors:  # in float32, in the prefilter's order of additions
            if m.id in e.requested or m.id in e.blocked:
                continue
            hours = sum(a == b == "1" for a, b in zip(e.availability, m.availability,
                                                      strict=True))
            capped += hours > SHARED_SLOTS_CAP
            v = shares(shares(np.float32(0), e.domains, m.domains), e.skills, m.skills)
            v = v + np.float32(bool(set(e.languages) & set(m.languages)))
            v = v + np.float32(m.prior)
            value[m.id] = v + np.float32(min(hours, SHARED_SLOTS_CAP)) / np.float32(
                SHARED_SLOTS_CAP)
        best = sorted(value, key=lambda m: (-value[m], m))[:n]
        expected += [(e.id, m) for m in best]
    assert capped
    assert sorted(got, key=lambda pair: pair[0]) == expected  # (a stable sort: best first)


def test_the_prefilter_runs_the_loops_compile_now_compiled_ahead(db_url, engine, monkeypatch):
    # an image compiles them when it is built (python -m matcher.best_mentors): a night that
    # called them with other array layouts would compile them again
    monkeypatch.setattr(best_mentors, "BLOCK", 16)  # full blocks, a short one, one of 1 row
    seed("--mentors", "30", "--mentees", "80", "--seed", "4")
    best_mentors.compile_now()
    with engine.begin() as conn:
        ids = conn.execute(sa.text("SELECT id FROM mentees WHERE active")).scalars().all()
        prefilter = Prefilter(conn, AS_OF, features.PRIOR_PARAMETERS)
        assert len(prefilter.pairs(ids[:33], 10)[0]) == 330
        assert len(prefilter.pairs(ids[:1], 10)[0]) == 10
    assert [len(f.signatures) for f in (best_mentors._values, best_mentors._keys)] == [1, 1]


def test_candidates_obey_eligibility_and_nobody_is_left_without(db_url, engine):
    seed("--mentors", "40", "--mentees", "200", "--seed", "8")
    with engine.begin() as conn:
        mentees = conn.execute(sa.text("SELECT id FROM mentees WHERE active")).scalars().all()
        frame = FeatureSession(conn).candidate_frame(mentees, AS_OF, max_candidates=15)
        ineligible = set(conn.execute(sa.text(
            "SELECT id FROM mentors m WHERE NOT active OR capacity <= "
            "(SELECT count(*) FROM interactions i WHERE i.mentor_id = m.id "
            "AND i.status = 'active')")).scalars())
        requested = set(map(tuple, conn.execute(sa.text(
            "SELECT mentee_id, mentor_id FROM interactions")).all()))
    assert ineligible, "the seeded world should have inactive or full mentors"
    assert not set(frame["mentor_id"]) & ineligible
    assert not {(a, b) for a, b in zip(frame["mentee_id"], frame["mentor_id"],
                                       strict=True)} & requested
    assert not frame.duplicated(["mentee_id", "mentor_id"]).any()
    per_mentee = frame.groupby("mentee_id").size()
    assert set(per_mentee.index) == set(mentees)
    assert per_mentee.min() >= 5 and per_mentee.max() <= 15
    _assert_matches_reference(engine, frame.sample(40, random_state=2))


def test_a_recommendations_own_answer_never_appears_in_its_features(db_url, engine):
    seed("--mentors", "25", "--mentees", "120", "--seed", "7")

    def feedback_features():
        with engine.begin() as conn:
            return FeatureSession(conn).feedback_frame().set_index("pair_id")

    before = feedback_features()
    answered = before[before["action"].isin(["accepted", "declined"])].index[:3]
    assert len(answered) == 3
    flip = ("UPDATE recommendation_feedback SET action = CASE action WHEN 'accepted' "
            "THEN 'declined' ELSE 'accepted' END WHERE id = :id")
    for pair_id in answered:
        with engine.begin() as conn:
            conn.execute(sa.text(flip), {"id": int(pair_id)})
        after = feedback_features()
        pd.testing.assert_series_equal(before.loc[pair_id, list(FEATURES)],
                                       after.loc[pair_id, list(FEATURES)])
        assert before.loc[pair_id, "action"] != after.loc[pair_id, "action"]
        with engine.begin() as conn:
            conn.execute(sa.text(flip), {"id": int(pair_id)})


def test_candidate_chunks_of_one_session_match_the_reference_and_separate_builds(
        db_url, engine):
    seed("--mentors", "25", "--mentees", "120", "--seed", "8")
    with engine.begin() as conn:
        mentees = sorted(conn.execute(sa.text(
            "SELECT id FROM mentees WHERE active")).scalars())
        session = FeatureSession(conn)  # the mentor side is built once, for every chunk
        chunks = [session.candidate_frame(mentees[lo:lo + 40], AS_OF)
                  for lo in range(0, len(mentees), 40)]
        training = session.training_frame()  # another build in between starts afresh
        again = session.candidate_frame(mentees[:40], AS_OF)
    key = ["mentee_id", "mentor_id"]
    together = pd.concat(chunks, ignore_index=True)
    assert len(chunks) >= 3 and len(training) > 50
    _assert_matches_reference(engine, together.sort_values(key).sample(80, random_state=2))
    for chunk in chunks[:2]:
        with engine.begin() as conn:
            alone = FeatureSession(conn).candidate_frame(
                sorted(chunk["mentee_id"].unique()), AS_OF)
        pd.testing.assert_frame_equal(
            chunk.sort_values(key).reset_index(drop=True),
            alone.sort_values(key).reset_index(drop=True))
    pd.testing.assert_frame_equal(
        chunks[0].sort_values(key).reset_index(drop=True),
        again.sort_values(key).reset_index(drop=True))


def test_a_programme_without_feedback_has_an_empty_feedback_frame(db_url, engine):
    seed("--mentors", "25", "--mentees", "120", "--seed", "9")
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM recommendation_feedback"))
        frame = FeatureSession(conn).feedback_frame()
    assert frame.empty and set(FEATURES) <= set(frame.columns)


def test_more_distinct_terms_than_the_overlap_counts_hold_are_refused(edge_world, monkeypatch):
    # the edge world has 3 distinct skills; counts 1 bit wide would hold only 0 and 1
    monkeypatch.setattr(features, "TERM_COUNT_BITS", 1)
    with edge_world.begin() as conn, pytest.raises(InputError, match="distinct domains or sk"):
        FeatureSession(conn)

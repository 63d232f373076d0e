"""Nightly scoring: the rules every list obeys, atomic publishing, locking, crash recovery,
the reader role and the example queries."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from threadpoolctl import threadpool_info

from matcher import chunks, registry
from matcher.db import sql
from matcher.lease import Session
from matcher.scoring import ScoreOptions, preview, score

from .helpers import Readers, assert_denied, invoke, seed

SHOW = "SELECT mentee_id, mentor_id, rank, batch_id FROM current_recommendations"


def _published(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(
            "SELECT r.*, me.external_id AS mentee, mo.external_id AS mentor FROM recommendations r "
            "JOIN published_batch p USING (batch_id) JOIN mentees me ON me.id = r.mentee_id "
            "JOIN mentors mo ON mo.id = r.mentor_id"), conn)


def test_published_lists_obey_the_rules(trained):
    engine = trained
    invoke("score", "--k", "5")
    recs = _published(engine)
    with engine.connect() as conn:
        active = set(conn.execute(sa.text("SELECT id FROM mentees WHERE active")).scalars())
        ineligible = set(conn.execute(sa.text(
            "SELECT id FROM mentors m WHERE NOT active OR capacity <= (SELECT count(*) FROM "
            "interactions i WHERE i.mentor_id = m.id AND i.status = 'active')")).scalars())
        eligible = conn.execute(sa.text("SELECT count(*) FROM mentors")).scalar_one() - len(
            ineligible)
        requested = set(map(tuple, conn.execute(sa.text(
            "SELECT mentee_id, mentor_id FROM interactions")).all()))
    assert ineligible
    assert set(recs["mentee_id"]) == active  # everybody active, nobody else
    assert not set(recs["mentor_id"]) & ineligible
    assert not set(zip(recs["mentee_id"], recs["mentor_id"], strict=True)) & requested
    assert not recs.duplicated(["mentee_id", "mentor_id"]).any()
    for _, group in recs.groupby("mentee_id"):
        assert sorted(group["rank"]) == list(range(1, len(group) + 1))
        assert group.sort_values("rank")["score"].is_monotonic_decreasing
        assert len(group) == 5 or eligible < 5 + 3
    assert all(e and {"feature", "value", "contribution"} <= set(e[0])
               for e in recs["explanation"])
    assert all(recs["reasons"].str.len() > 0)


def test_same_data_and_model_give_the_same_lists(trained):
    invoke("score")
    first = _published(trained)[["mentee", "mentor", "rank", "score"]]
    invoke("score", "--explore", "0")
    second = _published(trained)[["mentee", "mentor", "rank", "score"]]
    assert first["rank"].size > 0
    key = ["mentee", "rank"]
    pd.testing.assert_frame_equal(first.sort_values(key).reset_index(drop=True),
                                  second.sort_values(key).reset_index(drop=True))


def test_a_run_leaves_the_calling_process_as_it_found_it(trained, monkeypatch):
    """Application code that calls score gets its garbage collector and BLAS threads back,
    after a run that publishes and after one that fails while scoring its chunks (a run
    freezes the one and gives each scoring worker one BLAS thread)."""
    def blas_threads():
        return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]

    before = blas_threads()
    score(trained, ScoreOptions(k=3, explore=0.0))
    assert gc.get_freeze_count() == 0
    assert blas_threads() == before
    assert _published(trained)["rank"].size > 0

    def fail(*args, **kwargs):
        raise RuntimeError("injected: a chunk failed")

    monkeypatch.setattr(chunks, "score_chunk", fail)
    with pytest.raises(RuntimeError, match="injected"):
        score(trained, ScoreOptions(k=3, explore=0.0))
    assert gc.get_freeze_count() == 0
    assert blas_threads() == before


def test_lists_chosen_chunk_by_chunk_are_those_chosen_over_all_mentees_at_once(trained):
    """Relevance lists are chosen, explained and written as each chunk is scored; they are
    the lists chosen over every mentee's candidates at once (``preview``), a pin included,
    and a pin that cannot be applied is reported once."""
    engine = trained
    options = ScoreOptions(k=4, objective="relevance", chunk_size=7)
    lists, _ = preview(engine, options)
    with engine.connect() as conn:
        external = dict(conn.execute(sa.text("SELECT id, external_id FROM mentees")).all())
        mentors = dict(conn.execute(sa.text("SELECT id, external_id FROM mentors")).all())
        inactive = conn.execute(sa.text(
            "SELECT external_id FROM mentors WHERE NOT active LIMIT 1")).scalar_one()
    mentee = lists["mentee_id"].iloc[0]
    listed = set(lists[lists["mentee_id"] == mentee]["mentor_id"])
    pinned = next(m for m in lists["mentor_id"] if m not in listed)
    invoke("overrides", "add", "pin", "--mentor", mentors[pinned], "--mentee",
           external[mentee], "--reason", "matched at the kickoff")
    invoke("overrides", "add", "pin", "--mentor", inactive, "--mentee",
           external[lists["mentee_id"].iloc[-1]], "--reason", "asked for by name")
    expected, _ = preview(engine, options)
    result = score(engine, options)
    published = _published(engine)
    key = ["mentee_id", "rank"]
    columns = ["mentee_id", "rank", "mentor_id", "p_accept", "p_success"]
    pd.testing.assert_frame_equal(
        published[columns].sort_values(key).reset_index(drop=True),
        expected[columns].sort_values(key).reset_index(drop=True), check_dtype=False)
    assert published.query("mentee_id == @mentee and rank == 1")["mentor_id"].item() == pinned
    assert len(result.counts["pins_not_applied"]) == 1
    assert result.counts["recommendations"] == len(expected) > 0


def test_max_exposure_caps_mentor_appearances(trained):
    engine = trained
    invoke("score")
    plain = _published(engine)["mentor_id"].value_counts()
    invoke("score", "--max-exposure", "1", "--allow-shrink")  # many mentees get no list
    capped = _published(engine)
    with engine.connect() as conn:
        free = dict(conn.execute(sql("scoring/free_capacity.sql")).all())
    counts = capped["mentor_id"].value_counts()
    assert all(counts[m] <= free[m] for m in counts.index)
    assert counts.max() < plain.max()


def test_readers_never_see_an_empty_or_mixed_batch(trained):
    engine = trained
    invoke("score")
    expected = len(_published(engine))
    with Readers(engine.url) as readers:
        for _ in range(3):
            invoke("score")
    assert len(readers.seen) > 10
    assert set(readers.seen) == {(expected, 1)}


def test_a_second_run_is_refused_while_one_holds_the_lock(trained, db_url):
    engine = trained
    holder = Session(engine, "score")
    holder.acquire()
    try:
        result = subprocess.run([sys.executable, "-m", "matcher", "score"], capture_output=True,
                                text=True, env={**os.environ, "MATCHER_DATABASE_URL": db_url},
                                timeout=300)
    finally:
        holder.release()
    assert result.returncode == 75
    assert "another `matcher score` run is in progress" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: another")
    assert "Traceback" not in result.stderr
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM recommendation_batches")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM job_runs WHERE job = 'score'")
                            ).scalar() == 0


def test_a_killed_run_leaves_the_old_batch_served_and_the_next_run_succeeds(trained, db_url):
    engine = trained
    invoke("score")
    before = _published(engine)
    process = subprocess.Popen([sys.executable, "-m", "matcher", "score"],
                               env={**os.environ, "MATCHER_DATABASE_URL": db_url},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    with engine.connect() as conn:
        while time.time() < deadline:
            building = conn.execute(sa.text(
                "SELECT count(*) FROM recommendation_batches WHERE status = 'building'"
            )).scalar()
            conn.commit()
            if building:
                break
            time.sleep(0.02)
    assert building, "the run never started a batch"
    process.send_signal(signal.SIGKILL)
    process.wait()
    pd.testing.assert_frame_equal(before, _published(engine))
    invoke("score")  # the lock is free again
    with engine.connect() as conn:
        statuses = conn.execute(sa.text(
            "SELECT status FROM recommendation_batches ORDER BY id")).scalars().all()
        orphan_rows = conn.execute(sa.text(
            "SELECT count(*) FROM recommendations r JOIN recommendation_batches b "
            "ON b.id = r.batch_id WHERE b.status = 'failed'")).scalar()
    assert statuses == ["published", "failed", "published"]
    assert orphan_rows == 0


def test_no_champion_or_no_active_mentee_is_one_clear_line(db_url, engine):
    seed("--scale", "tiny")
    env = {**os.environ, "MATCHER_DATABASE_URL": db_url}
    result = subprocess.run([sys.executable, "-m", "matcher", "score"], capture_output=True,
                            text=True, env=env, timeout=300)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: there is no champion model yet; run `matcher train` first")
    assert "Traceback" not in result.stderr


def test_the_reader_role_reads_the_view_and_cannot_write(trained, reader_role):
    engine = trained
    invoke("score")
    invoke("score")  # a publish after the grant: it still works
    with engine.connect() as conn:
        conn.execute(sa.text(f'SET ROLE "{reader_role}"'))
        assert conn.execute(sa.text("SELECT count(*) FROM current_recommendations")
                            ).scalar() > 0
        conn.rollback()
        assert_denied(conn, reader_role, ["SELECT count(*) FROM recommendations",
                                          "DELETE FROM published_batch",
                                          "INSERT INTO mentors (external_id) VALUES ('x')"])


def test_example_queries_run_and_agree(trained):
    engine = trained
    invoke("score", "--k", "4")
    with engine.connect() as conn:
        one = conn.execute(sql("queries/some_mentees.sql"), {"n": 1}).scalar_one()
        top = conn.execute(sql("queries/mentee_top_k.sql"), {"mentee_id": one}).all()
        assert [r.rank for r in top] == [1, 2, 3, 4]
        short = conn.execute(sql("queries/mentees_short_of_k.sql"), {"k": 4}).all()
        inactive = conn.execute(sa.text("SELECT count(*) FROM mentees WHERE active")).scalar()
        assert all(r.recommendations < 4 for r in short) and len(short) < inactive
        exposure = conn.execute(sql("queries/mentor_exposure.sql")).all()
        assert sum(r.lists for r in exposure) == len(_published(engine))
        history = conn.execute(sql("queries/batch_history.sql"), {"limit": 5}).all()
        assert history[0].current and history[0].status == "published"
        by_rank = conn.execute(sql("queries/acceptance_by_rank.sql")).all()
        assert [r.rank for r in by_rank] == sorted(r.rank for r in by_rank)


def test_old_batches_are_pruned(trained, monkeypatch):
    monkeypatch.setenv("MATCHER_KEEP_BATCHES", "2")
    for _ in range(3):
        invoke("score")
    with trained.connect() as conn:
        kept = conn.execute(sa.text("SELECT count(*) FROM recommendation_batches")).scalar()
        versions = registry.champion_id(conn)
    assert kept == 2 and versions is not None


def test_from_the_second_night_some_slots_are_explored_with_their_probability_logged(
        trained, tmp_path):
    invoke("score")
    first = _published(trained)
    assert (first["propensity"] == 1).all() and not first["explored"].any()  # first night
    invoke("score", "--explore", "0.3")
    second = _published(trained)
    explored = second[second["explored"]]
    assert len(explored) > 0 and (explored["rank"] >= 4).all()
    assert ((second["propensity"] > 0) & (second["propensity"] <= 1)).all()
    assert (second.loc[second["rank"] < 4, "propensity"] == 1).all()
    assert explored["propensity"].max() < 0.3 < second.loc[~second["explored"], "propensity"].min()
    assert explored["reasons"].str.startswith("a wider pick").all()
    with trained.connect() as conn:
        pool = set(map(tuple, conn.execute(sa.text(
            "SELECT mentee_id, mentor_id FROM recommendations r JOIN published_batch p "
            "USING (batch_id)")).all()))
        requested = set(map(tuple, conn.execute(sa.text(
            "SELECT mentee_id, mentor_id FROM interactions")).all()))
        parameters = conn.execute(sa.text(
            "SELECT parameters FROM recommendation_batches b JOIN published_batch p "
            "ON p.batch_id = b.id")).scalar()
    assert parameters["explore"] == 0.3 and not pool & requested
    # feedback on the batch keeps each row's propensity and P(success)
    shown = second.sort_values(["mentee_id", "rank"]).head(10)
    path = tmp_path / "feedback.csv"
    pd.DataFrame({"mentee_id": shown["mentee"], "mentor_id": shown["mentor"],
                  "rank": shown["rank"], "shown_at": datetime.now(UTC).isoformat(),
                  "action": "ignored", "acted_at": ""}).to_csv(path, index=False)
    invoke("feedback", "import", str(path))
    with trained.connect() as conn:
        stored = pd.read_sql(sa.text("SELECT mentee_id, rank, propensity, p_success FROM "
                                     "recommendation_feedback WHERE batch_id IS NOT NULL "
                                     "ORDER BY mentee_id, rank"), conn)
    assert len(stored) == 10 and stored["propensity"].min() < 1
    np.testing.assert_allclose(stored["propensity"], shown["propensity"])
    np.testing.assert_allclose(stored["p_success"], shown["p_success"])

"""Faults injected on a real PostgreSQL: a terminated or idle-closed session, a lost worker
connection, kill -9 at stage boundaries, concurrent retrains, a reader role taking locks.

Each run under test is a real ``matcher`` process. It is paused at a chosen point by a table
lock the test holds (the run waits on PostgreSQL, exactly where it would be slow in real
life); the test injects the fault, releases the lock and checks: nothing lost, never an
empty or mixed batch served, one clear line, the next run succeeds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

import pandas as pd
import pytest
import sqlalchemy as sa

from matcher import batch_tables
from matcher.db import disconnect_of
from matcher.lease import Session

from .helpers import Readers, assert_denied, invoke, seed

pytestmark = pytest.mark.slow


@pytest.fixture
def trained(db_url, engine, tmp_path):
    seed("--scale", "tiny", "--seed", "11")
    invoke("train", "--algorithms", "logistic,xgboost", "--oracle-mentees", "20",
           "--report-dir", str(tmp_path))
    invoke("score")
    return engine


def _env(db_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "MATCHER_DATABASE_URL": db_url, **extra}


def _start(db_url: str, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "matcher", *args], env=_env(db_url, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _run(db_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "matcher", *args], capture_output=True,
                          text=True, env=_env(db_url, **env), timeout=300)


def _one_clear_line(stderr: str) -> str:
    """The error line; fails if the process printed a traceback."""
    assert "Traceback" not in stderr, stderr
    return stderr.strip().splitlines()[-1]


def _scalar(engine, query: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(query), params).scalar()


def _wait_for(engine, query: str, timeout: float = 120, **params):
    """Poll ``query`` until it returns a truthy value; return it."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = _scalar(engine, query, **params)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {query}")


WAITING_ON = ("SELECT min(l.pid) FROM pg_locks l WHERE NOT l.granted "
              "AND l.relation = CAST(:table AS regclass)")


@contextmanager
def holding(engine, lock: str):
    """Hold ``lock`` (a LOCK TABLE or SELECT ... FOR UPDATE) until the block ends."""
    conn = engine.connect()
    conn.execute(sa.text(lock))
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def _published(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(
            "SELECT batch_id, mentee_id, rank, mentor_id, score FROM current_recommendations "
            "ORDER BY mentee_id, rank"), conn)


def test_a_run_whose_lease_session_is_terminated_never_publishes(trained, db_url):
    engine = trained
    with Readers(engine.url) as readers:
        with holding(engine, "LOCK TABLE recommendation_batches IN EXCLUSIVE MODE"):
            first = _start(db_url, "score")
            _wait_for(engine, WAITING_ON, table="recommendation_batches")
            holder = _scalar(engine, "SELECT holder_pid FROM job_leases WHERE job = 'score'")
            assert _scalar(engine, "SELECT pg_terminate_backend(:pid)", pid=holder)
            second = _start(db_url, "score")  # the lease is free: its holder is gone
            _wait_for(engine, "SELECT token FROM job_leases WHERE job = 'score' "
                              "AND holder_pid IS NOT NULL AND holder_pid <> :pid", pid=holder)
        first_out = first.communicate(timeout=300)
        second_out = second.communicate(timeout=300)
    assert first.returncode == 76, first_out[1]
    assert "error: score" in _one_clear_line(first_out[1])
    assert "lease" in first_out[1] or "session" in first_out[1]
    assert second.returncode == 0, second_out[1]
    with engine.connect() as conn:
        batches = conn.execute(sa.text(
            "SELECT id, status FROM recommendation_batches ORDER BY id")).all()
        published = conn.execute(sa.text("SELECT batch_id FROM published_batch")).scalar()
        runs = conn.execute(sa.text(
            "SELECT status FROM job_runs WHERE job = 'score' ORDER BY id")).scalars().all()
    assert sorted(s for _, s in batches) == ["failed", "published", "published"]
    assert f"published batch {published} " in second_out[0]
    assert sorted(runs) == ["failed", "succeeded", "succeeded"]
    assert readers.never_saw_empty_or_mixed()


def test_the_lease_survives_a_server_that_closes_idle_sessions(trained, db_url):
    engine = trained
    database = engine.url.database
    admin = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{database}" SET idle_session_timeout = 600'))
        conn.commit()
    try:
        with holding(admin, "LOCK TABLE recommendation_batches IN EXCLUSIVE MODE"):
            run = _start(db_url, "score")
            _wait_for(admin, WAITING_ON, table="recommendation_batches")
            time.sleep(2.0)  # the run's own session is idle far longer than 600 ms
        out = run.communicate(timeout=300)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'ALTER DATABASE "{database}" RESET idle_session_timeout'))
            conn.commit()
        admin.dispose()
    assert run.returncode == 0, out[1]
    assert "published batch" in out[0]


def _score_losing_the_session_that_waits_on(engine, db_url: str, table: str) -> str:
    """Run ``matcher score --workers 2`` while ``table`` is locked, terminate the run's session
    that waits on it, and return the run's one error line (it must exit 74)."""
    with holding(engine, f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"):
        run = _start(db_url, "score", "--workers", "2")
        waiting = _wait_for(engine, WAITING_ON, table=table)
        assert _scalar(engine, "SELECT pg_terminate_backend(:pid)", pid=waiting)
    out = run.communicate(timeout=300)
    assert run.returncode == 74, out[1]
    return _one_clear_line(out[1])


def test_a_lost_worker_connection_is_one_line_and_the_old_batch_stays(trained, db_url):
    engine = trained
    before = _published(engine)
    line = _score_losing_the_session_that_waits_on(engine, db_url, "recommendation_feedback")
    assert line.startswith("error: score run ") and "lost the database connection while " \
        "scoring chunks" in line, line
    pd.testing.assert_frame_equal(before, _published(engine))
    assert _scalar(engine, "SELECT status FROM job_runs WHERE job = 'score' "
                           "ORDER BY id DESC LIMIT 1") == "failed"
    invoke("score")
    assert _scalar(engine, "SELECT count(*) FROM recommendation_batches "
                           "WHERE status = 'building'") == 0


def test_a_connection_lost_while_writing_the_batch_is_one_line_and_leaves_no_table(
        trained, db_url):
    engine = trained
    before = _published(engine)
    # batch_mentors is written last, after the batch's rows: the writer waits on it there
    line = _score_losing_the_session_that_waits_on(engine, db_url, "batch_mentors")
    assert "lost the database connection while explaining and writing the batch" in line, line
    pd.testing.assert_frame_equal(before, _published(engine))
    assert _scalar(engine, "SELECT count(*) FROM pg_class WHERE relkind = 'r' "
                           "AND NOT relispartition "
                           "AND relname LIKE 'recommendations\\_batch\\_%'") == 0
    invoke("score")
    assert _published(engine)["batch_id"].iloc[0] > before["batch_id"].iloc[0]


@pytest.mark.parametrize("pause", ["before the batch", "while publishing"])
def test_kill_9_leaves_the_old_batch_and_the_next_run_marks_it_abandoned(trained, db_url, pause):
    engine = trained
    before = _published(engine)
    lock, table = (("LOCK TABLE recommendation_batches IN EXCLUSIVE MODE",
                    "recommendation_batches") if pause == "before the batch" else
                   ("SELECT * FROM published_batch FOR UPDATE", "published_batch"))
    with holding(engine, lock):
        run = _start(db_url, "score")
        if pause == "before the batch":
            _wait_for(engine, WAITING_ON, table=table)
        else:
            _wait_for(engine, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = "
                              "'Lock' AND query LIKE '%published_batch%'")
        run.send_signal(signal.SIGKILL)
        run.wait()
    pd.testing.assert_frame_equal(before, _published(engine))
    shown = invoke("runs", "--job", "score", "--limit", "1")
    assert "abandoned" in shown
    invoke("score")
    with engine.connect() as conn:
        killed = conn.execute(sa.text(
            "SELECT status, error FROM job_runs WHERE job = 'score' ORDER BY id DESC "
            "OFFSET 1 LIMIT 1")).one()
        building = conn.execute(sa.text(
            "SELECT count(*) FROM recommendation_batches WHERE status = 'building'")).scalar()
    assert killed.status == "failed" and killed.error.startswith("abandoned")
    assert building == 0
    with engine.connect() as conn:  # the killed run's batch table is gone too
        assert [t.attached for t in batch_tables.tables(conn)] == [True, True]


def test_kill_9_between_promotion_and_decision_promotes_nothing(trained, db_url):
    engine = trained
    invoke("simulate-feedback")
    counts = "SELECT (SELECT count(*) FROM model_versions), (SELECT count(*) FROM " \
             "model_promotions), (SELECT count(*) FROM model_decisions), (SELECT id FROM " \
             "model_versions WHERE status = 'champion')"
    with engine.connect() as conn:
        before = tuple(conn.execute(sa.text(counts)).one())
    with holding(engine, "LOCK TABLE model_decisions IN EXCLUSIVE MODE"):
        run = _start(db_url, "retrain", "--force", "--oracle-mentees", "20")
        _wait_for(engine, WAITING_ON, table="model_decisions", timeout=300)
        # The run has registered and promoted in its transaction; the decision row waits.
        run.send_signal(signal.SIGKILL)
        run.wait()
    with engine.connect() as conn:
        assert tuple(conn.execute(sa.text(counts)).one()) == before
    result = _run(db_url, "retrain", "--force", "--oracle-mentees", "20")
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        promotions, decisions = conn.execute(sa.text(
            "SELECT (SELECT count(*) FROM model_promotions p JOIN model_versions v "
            "ON v.id = p.model_version_id WHERE v.target = 'success'), "
            "(SELECT count(*) FROM model_decisions)")).one()
    assert (promotions, decisions) == (before[1] + 1, before[2] + 1)


def test_a_second_retrain_is_refused_and_a_changed_champion_is_never_replaced(trained, db_url):
    engine = trained
    invoke("simulate-feedback")
    with engine.connect() as conn:
        champion, other = conn.execute(sa.text(
            "SELECT (SELECT id FROM model_versions WHERE status = 'champion'), "
            "(SELECT min(id) FROM model_versions WHERE status <> 'champion')")).one()
    with holding(engine, "LOCK TABLE model_versions IN EXCLUSIVE MODE") as lock:
        first = _start(db_url, "retrain", "--force", "--oracle-mentees", "20")
        _wait_for(engine, WAITING_ON, table="model_versions", timeout=300)
        second = _run(db_url, "retrain", "--force")
        # Meanwhile an admin promotes another version (inside the lock the test holds).
        lock.execute(sa.text("UPDATE model_versions SET status = 'retired' WHERE id = :c"),
                     {"c": champion})
        lock.execute(sa.text("UPDATE model_versions SET status = 'champion' WHERE id = :o"),
                     {"o": other})
        lock.commit()
    out = first.communicate(timeout=300)
    assert second.returncode == 75, second.stderr
    assert _one_clear_line(second.stderr).startswith("error: another `matcher retrain` run")
    assert first.returncode == 0, out[1]
    with engine.connect() as conn:
        now_champion = conn.execute(sa.text(
            "SELECT id FROM model_versions WHERE status = 'champion' AND target = 'success'")
        ).scalar_one()
        outcome, reason = conn.execute(sa.text(
            "SELECT outcome, reason FROM model_decisions ORDER BY id DESC LIMIT 1")).one()
    assert now_champion == other
    assert outcome == "kept" and "champion changed" in reason


def test_no_eligible_mentor_is_one_line_and_the_old_batch_stays(trained, db_url):
    engine = trained
    invoke("models", "promote", str(_scalar(
        engine, "SELECT id FROM model_versions WHERE algorithm = 'logistic'")),
        "--reason", "the imputer path")
    before = _published(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE mentors SET active = false"))
    result = _run(db_url, "score")
    assert result.returncode == 3, result.stderr
    assert _one_clear_line(result.stderr).startswith(
        "error: nothing to score: ") and "0 eligible mentors" in result.stderr
    pd.testing.assert_frame_equal(before, _published(engine))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE mentors SET active = true"))
        conn.execute(sa.text("UPDATE mentees SET active = false"))
    result = _run(db_url, "score")
    assert result.returncode == 3 and "0 active mentees" in result.stderr
    pd.testing.assert_frame_equal(before, _published(engine))


def test_a_batch_listing_under_half_the_mentees_is_not_published(trained, db_url):
    engine = trained
    before = _published(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE mentees SET active = false WHERE id % 4 <> 0"))
    result = _run(db_url, "score")
    assert result.returncode == 4, result.stderr
    line = _one_clear_line(result.stderr)
    assert "fewer than half" in line and "--allow-shrink" in line
    pd.testing.assert_frame_equal(before, _published(engine))
    invoke("score", "--allow-shrink")
    assert _published(engine)["mentee_id"].nunique() < before["mentee_id"].nunique() / 2


def test_a_reader_can_neither_block_nor_take_the_nightly_job(trained, db_url, reader_role):
    engine = trained
    with engine.connect() as reader:
        assert_denied(reader, reader_role, [
            "SELECT * FROM job_leases FOR UPDATE",
            "UPDATE job_leases SET holder_pid = pg_backend_pid()",
            "SELECT * FROM current_recommendations FOR UPDATE",
            "CREATE TEMP TABLE hoard (x int)",
            "CREATE TABLE public.hoard (x int)"])
        reader.execute(sa.text(f'SET ROLE "{reader_role}"'))
        # The old scoring lock: any role can take this advisory lock; it stops nothing now.
        reader.execute(sa.text("SELECT pg_advisory_lock(30787330147820914)"))
        reader.execute(sa.text("SELECT count(*) FROM current_recommendations"))  # holds a lock
        result = _run(db_url, "score")  # while the reader holds what it can
        assert result.returncode == 0, result.stderr
        assert reader.execute(sa.text("SELECT count(*) FROM current_recommendations")
                              ).scalar() > 0
        reader.rollback()  # also undoes SET ROLE
        reader.execute(sa.text("SELECT pg_advisory_unlock_all()"))


def test_a_session_holding_the_lease_is_refused_to_a_second_holder(engine):
    first, second = Session(engine, "score"), Session(engine, "score")
    try:
        token = first.acquire()
        with pytest.raises(Exception, match="another `matcher score` run is in progress"):
            second.acquire()
        first.release()
        assert second.acquire() == token + 1
    finally:
        first.release()
        second.release()


def test_a_connection_lost_under_pandas_is_told_from_a_query_error(engine):
    """pandas re-raises a driver's error as its own: the lost connection behind it is still
    found (and named), while a mistake in a query is not taken for one."""
    victim = engine.connect()
    pid = victim.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    assert _scalar(engine, "SELECT pg_terminate_backend(:pid)", pid=pid)
    with pytest.raises(pd.errors.DatabaseError) as lost:
        pd.read_sql(sa.text("SELECT 1"), victim)
    victim.invalidate()
    cause = disconnect_of(lost.value)
    assert cause is not None and "terminat" in str(cause)
    with engine.connect() as conn, pytest.raises(pd.errors.DatabaseError) as wrong:
        pd.read_sql(sa.text("SELECT no_such_column FROM mentors"), conn)
    assert disconnect_of(wrong.value) is None

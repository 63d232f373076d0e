"""Scoring on a Dask cluster: the same lists as the in-process run, a worker killed mid-run
rescheduled without loss, and an unreachable scheduler as one line with the previous batch
still served."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import sqlalchemy as sa

from .helpers import invoke, seed
from .test_faults import WAITING_ON, _one_clear_line, _wait_for, holding

distributed = pytest.importorskip("distributed")


@pytest.fixture
def trained(db_url, engine, tmp_path):
    seed("--scale", "tiny", "--seed", "51")
    invoke("train", "--algorithms", "logistic,xgboost", "--oracle-mentees", "20",
           "--no-market", "--report-dir", str(tmp_path))
    invoke("score")  # a published batch, so that later runs explore unless told not to
    return engine


def _lists(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text(
            "SELECT mentee_id, rank, mentor_id, score, p_accept, p_success, reasons "
            "FROM current_recommendations ORDER BY mentee_id, rank"), conn)


def _batch(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT batch_id FROM published_batch")).scalar_one()


def test_a_local_dask_cluster_publishes_the_same_lists_as_the_in_process_run(trained):
    invoke("score", "--explore", "0")
    in_process = _lists(trained)
    out = invoke("score", "--explore", "0", "--dask", "local:2")
    assert "published batch 3" in out
    pd.testing.assert_frame_equal(in_process, _lists(trained))
    with trained.connect() as conn:
        timings, parameters = conn.execute(sa.text(
            "SELECT timings, parameters FROM recommendation_batches WHERE id = 3")).one()
    assert parameters["dask"] == "local:2" and timings["candidates_and_features"] > 0


def _env(db_url: str) -> dict[str, str]:
    return {**os.environ, "MATCHER_DATABASE_URL": db_url}


def test_an_unreachable_scheduler_is_one_line_and_the_previous_batch_stays(trained, db_url):
    before, served = _lists(trained), _batch(trained)
    result = subprocess.run([sys.executable, "-m", "matcher", "score", "--dask",
                             "tcp://127.0.0.1:9"], capture_output=True, text=True,
                            env=_env(db_url), timeout=300)
    assert result.returncode == 69, result.stderr
    line = _one_clear_line(result.stderr)
    assert line.startswith("error: could not reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "previous batch" in line
    assert _batch(trained) == served
    pd.testing.assert_frame_equal(before, _lists(trained))
    with trained.connect() as conn:
        status = conn.execute(sa.text(
            "SELECT status FROM recommendation_batches ORDER BY id DESC LIMIT 1")).scalar_one()
    assert status == "failed"
    invoke("score", "--explore", "0")  # the next run succeeds
    assert _batch(trained) != served


def test_a_worker_killed_mid_run_is_replaced_and_the_lists_are_the_same(trained, db_url):
    invoke("score", "--explore", "0", "--chunk-size", "100")
    expected = _lists(trained)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            # the chunks wait on feedback (every feature build reads it) while we kill one
            with holding(trained, "LOCK TABLE recommendation_feedback IN ACCESS EXCLUSIVE MODE"):
                run = subprocess.Popen(
                    [sys.executable, "-m", "matcher", "score", "--explore", "0",
                     "--chunk-size", "100", "--dask", cluster.scheduler_address],
                    env=_env(db_url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True)
                _wait_for(trained, WAITING_ON, table="recommendation_feedback", timeout=120)
                time.sleep(1)
                os.kill(pids[0], signal.SIGKILL)
                time.sleep(1)
            out, err = run.communicate(timeout=300)
    finally:
        cluster.close()
    assert run.returncode == 0, err
    assert "published batch" in out
    pd.testing.assert_frame_equal(expected, _lists(trained))

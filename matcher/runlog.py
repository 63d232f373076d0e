"""The run log: one ``job_runs`` row per CLI job, written outside the job's own transaction
so that a failed job is recorded even when its work was rolled back.

Each run keeps a database session of its own for its whole life (:class:`matcher.lease.Session`)
and records that session's backend pid: a run whose process was killed leaves a row that is
recognisably dead, and the next run of any job marks it failed ('abandoned'). Exclusive jobs
(``score``, ``retrain``) take their lease through that session before anything else.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from matcher import logs
from matcher.db import disconnect_of, sql
from matcher.errors import ConnectionLost
from matcher.lease import Session, first_line

log = logging.getLogger(__name__)

#: Jobs of which only one run may be in progress at a time.
EXCLUSIVE_JOBS = ("score", "retrain")


@dataclass
class JobRun:
    id: int
    job: str
    session: Session
    summary: dict = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    _stage: str = "starting"
    _stage_started: float = field(default_factory=time.perf_counter)

    @property
    def stage(self) -> str:
        """What the run is doing now, named in the one-line error if the connection drops
        and on every log line of the run (:mod:`matcher.logs`)."""
        return self._stage

    @stage.setter
    def stage(self, stage: str) -> None:
        now = time.perf_counter()
        previous, seconds = self._stage, round(now - self._stage_started, 3)
        self._stage, self._stage_started = stage, now
        log.info("%s run %d: %s", self.job, self.id, stage,
                 extra={"previous_stage": previous, "seconds": seconds})

    @property
    def token(self) -> int | None:
        """The lease token of an exclusive job."""
        return self.session.token

    def check(self) -> None:
        """Stop (:class:`matcher.errors.LeaseLost`) if the run's session or lease is lost."""
        self.session.check()


@contextmanager
def job_run(engine: Engine, job: str, parameters: dict) -> Iterator[JobRun]:
    """Record ``job`` as running; on exit mark it succeeded (with ``run.summary``) or failed.

    Exclusive jobs first take their lease (:class:`matcher.errors.LockBusy` if another run
    holds it; nothing is written then). Runs left 'running' by dead processes are marked
    failed on the way in. A lost connection anywhere in the run becomes one
    :class:`ConnectionLost` naming the job, ``run.stage`` and the cause.
    """
    session = Session(engine, job)
    try:
        if job in EXCLUSIVE_JOBS:
            session.acquire()
        for run_id, dead_job in session.execute(sql("runlog/abandon_dead.sql")).all():
            log.warning("run %d (%s) was left running by a process that is gone; marked it "
                        "failed (abandoned)", run_id, dead_job)
        run_id = session.execute(sql("runlog/start.sql"), {
            "job": job, "parameters": json.dumps(parameters, default=str),
            "lease_token": session.token}).scalar_one()
    except BaseException:
        session.release()
        raise
    run = JobRun(run_id, job, session)
    token = logs.current_run.set(run)
    log.info("%s run %d started", job, run_id)
    try:
        yield run
    except BaseException as exc:
        cause = disconnect_of(exc)
        if cause is not None:
            lost = ConnectionLost(
                f"{job} run {run_id}: lost the database connection while {run.stage} "
                f"({first_line(cause)}); nothing of this run took effect (the previous results "
                "stay in place) and the next run starts clean")
            _finish(engine, run, "failed", str(lost))
            raise lost from None
        _finish(engine, run, "failed", str(exc)[:2000] or type(exc).__name__)
        log.info("%s run %d failed", job, run_id, extra=_outcome(run, "failed"))
        raise
    else:
        _finish(engine, run, "succeeded", None)
        log.info("%s run %d succeeded", job, run_id, extra=_outcome(run, "succeeded"))
    finally:
        logs.current_run.reset(token)
        session.release()


def _outcome(run: JobRun, status: str) -> dict:
    """What the run's last log line carries: status, whole-run seconds and its counts."""
    summary = run.summary or {}
    return {"status": status, "seconds": round(time.perf_counter() - run.started, 3),
            "counts": summary.get("counts", {k: v for k, v in summary.items()
                                             if isinstance(v, int | float)})}


def _finish(engine: Engine, run: JobRun, status: str, error: str | None) -> None:
    """Record the outcome on the run's session, or on a new connection if that one is gone.
    Never raises: if the database cannot be reached at all, the row stays 'running' and the
    next run marks it failed (its session is gone)."""
    parameters = {"id": run.id, "status": status, "error": error,
                  "summary": json.dumps(run.summary, default=str)}
    try:
        run.session.execute(sql("runlog/finish.sql"), parameters)
        return
    except Exception:  # noqa: BLE001 - fall back to a fresh connection below
        pass
    try:
        with engine.begin() as conn:
            conn.execute(sql("runlog/finish.sql"), parameters)
    except Exception as exc:  # noqa: BLE001
        log.warning("could not record %s run %d as %s (%s); the next run will mark it failed",
                    run.job, run.id, status, first_line(exc))


def recent_runs(engine: Engine, limit: int = 10, job: str | None = None) -> list[dict]:
    """The newest runs, a run left 'running' by a dead process shown as 'abandoned'."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sql("runlog/recent.sql"),
                                              {"limit": limit, "job": job}).mappings()]

"""The run log: one ``job_runs`` row per CLI job, written outside the job's own transaction
so that a failed job is recorded even when its work was rolled back."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from matcher.db import sql

log = logging.getLogger(__name__)


@dataclass
class JobRun:
    id: int
    summary: dict = field(default_factory=dict)


@contextmanager
def job_run(engine: Engine, job: str, parameters: dict) -> Iterator[JobRun]:
    """Record ``job`` as running; on exit mark it succeeded (with ``run.summary``) or failed."""
    with engine.begin() as conn:
        run_id = conn.execute(sql("runlog/start.sql"),
                              {"job": job, "parameters": json.dumps(parameters)}).scalar_one()
    run = JobRun(run_id)
    log.info("%s run %d started", job, run_id)
    try:
        yield run
    except BaseException as exc:
        with engine.begin() as conn:
            conn.execute(sql("runlog/finish.sql"), {"id": run_id, "status": "failed",
                                                    "summary": json.dumps(run.summary),
                                                    "error": str(exc)[:2000] or type(exc).__name__})
        log.info("%s run %d failed", job, run_id)
        raise
    with engine.begin() as conn:
        conn.execute(sql("runlog/finish.sql"), {"id": run_id, "status": "succeeded",
                                                "summary": json.dumps(run.summary, default=str),
                                                "error": None})
    log.info("%s run %d succeeded", job, run_id)

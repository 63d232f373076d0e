"""Benchmark helpers: a throwaway database on the configured server, and the command line."""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from matcher import migrations
from matcher.db import create_database_if_missing, database_url
from matcher.scoring import BatchResult, ScoreOptions, score
from matcher.synthetic import oracle
from matcher.synthetic.seed import PRESETS, seed_database
from matcher.training import train

#: The last day of a benchmark world's two years of history.
AS_OF = datetime(2026, 11, 1, tzinfo=UTC)


@contextmanager
def scratch_database() -> Iterator[str]:
    """A migrated, uniquely named database on matcher's server, dropped afterwards."""
    base = make_url(database_url())
    name = f"matcher_bench_{uuid.uuid4().hex[:8]}"
    admin = base.set(database="postgres").render_as_string(hide_password=False)
    create_database_if_missing(admin, name)
    url = base.set(database=name).render_as_string(hide_password=False)
    before = os.environ.get("MATCHER_DATABASE_URL")
    os.environ["MATCHER_DATABASE_URL"] = url
    try:
        migrations.upgrade(url)
        yield url
    finally:
        if before is None:
            os.environ.pop("MATCHER_DATABASE_URL", None)
        else:
            os.environ["MATCHER_DATABASE_URL"] = before
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def scale_parser(doc: str, default_scale: str) -> argparse.ArgumentParser:
    """A benchmark's command line: its docstring as help, and ``--scale`` (a seeder preset)."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=list(PRESETS), default=default_scale)
    return parser


def parse(parser: argparse.ArgumentParser) -> tuple[argparse.Namespace, int, int]:
    """Parsed arguments and the preset's (mentors, mentees); only warnings are logged."""
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return (args, *PRESETS[args.scale])


def server_cpu_seconds(conn) -> float | None:
    """CPU seconds the PostgreSQL server has used so far, all its processes together (those
    that ended included), read from /proc; ``None`` when the server runs on another machine.
    Every database's sessions count: run the benchmark on an otherwise idle server. A child
    that ends between the listing and its reading is left out (what it used counts once
    the postmaster has collected it)."""
    backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    try:
        postmaster = int(_stat(backend)[1])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        # utime, stime, and the ended children's cutime, cstime
        ticks = sum(int(f) for f in _stat(postmaster)[11:15])
    except (OSError, ValueError, IndexError):
        return None
    for child in children:
        try:
            ticks += sum(int(f) for f in _stat(int(child))[11:13])
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command's name."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def seed_and_train(engine: Engine, n_mentors: int, n_mentees: int) -> None:
    """Seed a world (seed 42, history up to :data:`AS_OF`) and train an XGBoost champion."""
    seed_database(engine, n_mentors, n_mentees, 42, AS_OF, replace=False)
    train(engine, ["xgboost"], oracle_source=oracle.source(50))


@dataclass
class TimedRun:
    """One ``matcher score`` run: its result, wall seconds, and the CPU seconds of this
    process and of the PostgreSQL server (``None`` when it runs on another machine)."""

    result: BatchResult
    wall: float
    own_cpu: float
    server_cpu: float | None

    @property
    def pairs_per_second(self) -> float:
        """Pairs scored per second of wall time, end to end."""
        return self.result.counts["pairs_scored"] / self.wall


def timed_score(engine: Engine, options: ScoreOptions) -> TimedRun:
    """Run ``matcher score`` once with ``options`` and time it."""
    with engine.connect() as conn:
        server_start = server_cpu_seconds(conn)
    own_start = own_cpu_seconds()
    start = time.perf_counter()
    result = score(engine, options)
    wall = time.perf_counter() - start
    own = own_cpu_seconds() - own_start
    with engine.connect() as conn:
        server = None if server_start is None else server_cpu_seconds(conn) - server_start
    return TimedRun(result, wall, own, server)


def own_cpu_seconds() -> float:
    """CPU seconds of this process so far, every thread (not Dask's worker processes)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

"""Benchmark helpers: a throwaway database on the configured server, and the command line."""

from __future__ import annotations

import argparse
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from matcher import migrations
from matcher.db import create_database_if_missing, database_url
from matcher.synthetic.seed import PRESETS


@contextmanager
def scratch_database() -> Iterator[str]:
    """A migrated, uniquely named database on matcher's server, dropped afterwards."""
    base = make_url(database_url())
    name = f"matcher_bench_{uuid.uuid4().hex[:8]}"
    admin = base.set(database="postgres").render_as_string(hide_password=False)
    create_database_if_missing(admin, name)
    url = base.set(database=name).render_as_string(hide_password=False)
    os.environ["MATCHER_DATABASE_URL"] = url
    try:
        migrations.upgrade(url)
        yield url
    finally:
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
    Every database's sessions count: run the benchmark on an otherwise idle server."""
    backend = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    try:
        postmaster = int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        ticks = 0
        for pid, ended_too in [(postmaster, True), *((int(c), False) for c in children)]:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            # utime, stime (and, for the postmaster, the ended children's cutime, cstime)
            ticks += sum(int(f) for f in fields[11:15 if ended_too else 13])
    except (OSError, ValueError, IndexError):
        return None
    return ticks / os.sysconf("SC_CLK_TCK")

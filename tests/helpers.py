"""Shared test helpers."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa
from click.testing import CliRunner

from matcher.cli import cli

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)
PROGRAMME_TABLES = ("mentors", "mentees", "interactions", "recommendation_feedback")


def invoke(*args: str) -> str:
    """Run a matcher command in-process; fail the test with its output if it fails."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def assert_denied(conn: sa.Connection, role: str, statements: list[str]) -> None:
    """Each statement, run as ``role`` on ``conn``, fails with "permission denied"."""
    import pytest

    for statement in statements:
        conn.execute(sa.text(f'SET ROLE "{role}"'))
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text(statement))
        conn.rollback()


def seed(*args: str) -> str:
    return invoke("seed", "--as-of", AS_OF.date().isoformat(), *args)


CONTENT_QUERIES = {
    "mentors": "SELECT external_id, domains, skills, industry, timezone, languages, style, "
               "experience_years, capacity, availability, availability_utc::text, bio, active "
               "FROM mentors ORDER BY external_id",
    "mentees": "SELECT external_id, domains, skills, industry, timezone, languages, "
               "preferred_style, experience_level, availability, availability_utc::text, goals, "
               "active FROM mentees ORDER BY external_id",
    "interactions": "SELECT me.external_id, mo.external_id, requested_at, status, ended_at, "
                    "rating FROM interactions i JOIN mentees me ON me.id = i.mentee_id "
                    "JOIN mentors mo ON mo.id = i.mentor_id ORDER BY 1, 3, 2",
    "feedback": "SELECT me.external_id, mo.external_id, rank, shown_at, action, acted_at, "
                "mentor_response "
                "FROM recommendation_feedback f JOIN mentees me ON me.id = f.mentee_id "
                "JOIN mentors mo ON mo.id = f.mentor_id ORDER BY 1, 4, 3",
}


def table_contents(url: str) -> dict[str, pd.DataFrame]:
    """Every programme table's content by external ids (no internal ids or bookkeeping)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        out = {name: pd.read_sql(sa.text(q), conn) for name, q in CONTENT_QUERIES.items()}
    engine.dispose()
    return out


def count_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        out = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
               for t in PROGRAMME_TABLES}
    engine.dispose()
    return out



def index_and_constraint_definitions(url: str) -> list[str]:
    """Every index and constraint of the programme tables, as PostgreSQL prints them."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT indexdef FROM pg_indexes WHERE tablename = ANY(:tables) "
            "UNION ALL SELECT conrelid::regclass || ' ' || conname || ' ' "
            "|| pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid::regclass::text = ANY(:tables) ORDER BY 1"),
            {"tables": list(PROGRAMME_TABLES)}).scalars().all()
    engine.dispose()
    return rows


class Readers:
    """A thread reading current_recommendations over and over: (rows, batches) per read."""

    def __init__(self, url) -> None:
        self.url, self.seen, self.stop = url, [], threading.Event()
        self.thread = threading.Thread(target=self._read)

    def _read(self) -> None:
        reader = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        with reader.connect() as conn:
            while not self.stop.is_set():
                self.seen.append(tuple(conn.execute(sa.text(
                    "SELECT count(*), count(DISTINCT batch_id) FROM current_recommendations"
                )).one()))
                conn.commit()
                time.sleep(0.01)
        reader.dispose()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def never_saw_empty_or_mixed(self) -> bool:
        return bool(self.seen) and all(rows > 0 and batches == 1 for rows, batches in self.seen)

"""Bulk loads: drop a table's plain indexes and foreign keys, load, then rebuild them.

Loading rows into a table with its indexes and foreign keys in place updates every index
and checks every foreign key once per row. Building each index once from all rows, and
checking each foreign key with one join, costs less when the load is large next to the
table; ``pg_restore`` loads the same way. (``benchmarks/load_benchmark.py`` prints both
paths.) Everything happens inside the caller's transaction: if anything fails, the
rollback restores the table, its indexes and its constraints exactly as they were.

While a bulk load's transaction is open, the table is locked for readers as well as
writers (``ACCESS EXCLUSIVE``). So it is used only when the load at least doubles the
table (a first import, a seed, a programme's history added at once), and only when that
lock is free at once, on the table and on the tables its foreign keys refer to (dropping a
foreign key locks both): if another session is using any of them, the load takes the
ordinary path instead of waiting or making others wait.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg2 import errors as pgerrors
from psycopg2 import sql as pgsql
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from matcher.db import sql

log = logging.getLogger(__name__)

MIN_ROWS = 10_000  # below this, rebuilding saves little or costs more (load_benchmark)


@contextmanager
def rebuilt_after(conn: Connection, table: str, incoming_rows: int) -> Iterator[bool]:
    """Run the body with ``table``'s plain indexes and foreign keys dropped, and rebuild
    them after it, when loading ``incoming_rows`` is a bulk load (see the module text).

    Yields whether it did; the body runs either way."""
    if not _worth_it(conn, table, incoming_rows):
        yield False
        return
    parts = conn.execute(sql("bulk/rebuildable_parts.sql"), {"table": table}).all()
    # dropping a foreign key locks the table it refers to as well
    if not _locked_at_once(conn, [table, *sorted({p.refers_to for p in parts if p.refers_to})]):
        yield False
        return
    for kind, name, _, _ in parts:
        _ddl(conn, "DROP INDEX {name}" if kind == "index"
             else "ALTER TABLE {table} DROP CONSTRAINT {name}", table, name)
    yield True
    for kind, name, definition, _ in parts:  # pg_get_indexdef / pg_get_constraintdef text
        prefix = "" if kind == "index" else _compose(
            conn, "ALTER TABLE {table} ADD CONSTRAINT {name} ", table, name)
        conn.exec_driver_sql(prefix + definition)
    log.info("bulk load into %s: rebuilt %d indexes and foreign keys", table, len(parts))


def _worth_it(conn: Connection, table: str, incoming_rows: int) -> bool:
    """True when ``incoming_rows`` is at least MIN_ROWS and at least twice the rows already in
    ``table``: then at least as many rows are new as were there, whatever the overlap, so a
    re-import of the same file never counts."""
    if incoming_rows < MIN_ROWS:
        return False
    limit = incoming_rows // 2 + 1
    count = _compose(conn, "SELECT count(*) FROM (SELECT FROM {table} LIMIT %(limit)s) AS t",
                     table)
    return conn.exec_driver_sql(count, {"limit": limit}).scalar_one() < limit


def _locked_at_once(conn: Connection, tables: list[str]) -> bool:
    """Lock ``tables`` for this transaction if no other session holds any lock on them."""
    lock = pgsql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE NOWAIT").format(
        pgsql.SQL(", ").join(map(pgsql.Identifier, tables)))
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(lock.as_string(conn.connection.driver_connection))
    except OperationalError as exc:
        if not isinstance(exc.orig, pgerrors.LockNotAvailable):
            raise
        log.info("bulk load into %s: %s in use by another session, loading row by row",
                 tables[0], " or ".join(tables))
        return False
    return True


def _compose(conn: Connection, template: str, table: str, name: str | None = None) -> str:
    """``template`` with ``{table}`` and ``{name}`` filled in as quoted identifiers."""
    identifiers = {"table": pgsql.Identifier(table)}
    if name is not None:
        identifiers["name"] = pgsql.Identifier(name)
    return pgsql.SQL(template).format(**identifiers).as_string(conn.connection.driver_connection)


def _ddl(conn: Connection, template: str, table: str, name: str | None = None) -> None:
    conn.exec_driver_sql(_compose(conn, template, table, name))

"""Each batch's rows in a table of their own: a partition of ``recommendations`` by batch.

A run COPYs its batch into a plain table named for it (:func:`create`; no index and no
foreign key, so nothing is checked row by row while it fills) and the publishing
transaction attaches it (:func:`attach`): PostgreSQL checks each foreign key with one query
over the whole table and builds the indexes by sorting (writing a large batch took 39 %
fewer thread-seconds so, ``docs/scaling.md``). Readers only ever see attached tables, and
only the published batch's rows through ``current_recommendations``; a run that dies leaves
an unattached table, which the next run drops (:func:`drop_unattached`). An old batch leaves
by ``DETACH ... CONCURRENTLY``, which never blocks readers, and ``DROP`` (:func:`retire`)
instead of a row-by-row delete.

Table names and the partition bound are SQL identifiers and a literal in DDL (which takes no
bound parameters): psycopg2 quotes both (:func:`_statement`).
"""

from __future__ import annotations

import logging

from psycopg2 import sql as pgsql
from sqlalchemy import Connection, Engine

from matcher.db import sql, sql_text

log = logging.getLogger(__name__)

#: How long retiring an old batch waits for readers of its partition (then the next run
#: tries again).
RETIRE_LOCK_TIMEOUT = "30s"


def table_name(batch_id: int) -> str:
    """The name of batch ``batch_id``'s table."""
    return f"recommendations_batch_{int(batch_id)}"


def _statement(conn: Connection, name: str, batch_id: int) -> str:
    """``sql/batch_tables/<name>`` for batch ``batch_id``, identifiers and literal quoted."""
    composed = pgsql.SQL(sql_text(f"batch_tables/{name}")).format(
        table=pgsql.Identifier(table_name(batch_id)), batch_id=pgsql.Literal(int(batch_id)))
    return composed.as_string(conn.connection.driver_connection)


def _run(conn: Connection, name: str, batch_id: int) -> None:
    conn.exec_driver_sql(_statement(conn, name, batch_id))


def create(conn: Connection, batch_id: int) -> str:
    """Create batch ``batch_id``'s empty table; returns its name (to COPY into)."""
    _run(conn, "create.sql", batch_id)
    return table_name(batch_id)


def attach(conn: Connection, batch_id: int) -> None:
    """Attach batch ``batch_id``'s filled table as its partition of recommendations."""
    _run(conn, "attach.sql", batch_id)


def tables(conn: Connection) -> list:
    """Every batch table: ``batch_id``, ``name``, ``attached``, ``detach_pending``."""
    return conn.execute(sql("batch_tables/tables.sql")).all()


def drop_unattached(conn: Connection, batch_id: int | None = None) -> list[int]:
    """Drop the tables never attached (of batch ``batch_id`` only, if given): those of runs
    that failed or died. Returns their batches."""
    dropped = [t.batch_id for t in tables(conn) if not t.attached
               and (batch_id is None or t.batch_id == batch_id)]
    for batch in dropped:
        _run(conn, "drop.sql", batch)
    return dropped


def drop_all(conn: Connection) -> None:
    """Drop every batch table, attached or not (before a world's data is replaced)."""
    for t in tables(conn):
        _run(conn, "drop.sql", t.batch_id)


def retire(engine: Engine, batch_ids: list[int]) -> list[int]:
    """Detach (concurrently: readers are never blocked) and drop each batch's partition,
    then delete its log row. A batch whose readers hold it past :data:`RETIRE_LOCK_TIMEOUT`
    is left for the next run, with a warning. Returns the batches retired."""
    retired = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sql("batch_tables/lock_timeout.sql"), {"timeout": RETIRE_LOCK_TIMEOUT})
        try:
            state = {t.batch_id: t for t in tables(conn)}
            for batch_id in batch_ids:
                table = state.get(batch_id)
                try:
                    if table is not None and table.attached:
                        _run(conn, "finalize.sql" if table.detach_pending else "detach.sql",
                             batch_id)
                    _run(conn, "drop.sql", batch_id)
                    conn.execute(sql("batch_tables/delete_batch.sql"), {"batch_id": batch_id})
                except Exception as exc:  # noqa: BLE001 - pruning is retried by the next run
                    log.warning("batch %d not pruned now (%s); the next run tries again",
                                batch_id, str(exc).splitlines()[0])
                    break
                retired.append(batch_id)
        finally:
            conn.execute(sql("batch_tables/reset_lock_timeout.sql"))
    return retired

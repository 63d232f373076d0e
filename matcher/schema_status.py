"""What `matcher db status` shows: each table and view with its row count."""

from __future__ import annotations

from psycopg2 import sql as pgsql
from sqlalchemy.engine import Engine

from matcher.db import raw_connection, sql_text


def table_counts(engine: Engine) -> list[tuple[str, str, int]]:
    """``(name, kind, rows)`` for every table and view in matcher's schema."""
    with raw_connection(engine) as conn, conn.cursor() as cur:
        cur.execute(sql_text("schema_status/relations.sql"))
        relations = cur.fetchall()
        result = []
        for name, kind in relations:
            cur.execute(pgsql.SQL("SELECT count(*) FROM {}").format(pgsql.Identifier(name)))
            result.append((name, kind, cur.fetchone()[0]))
        return result

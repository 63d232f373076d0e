"""Reading the published batch the way analysts do, with the example queries in
``sql/queries/`` (also what ``matcher show`` prints)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from matcher.db import sql


def published_lists(engine: Engine, mentee_ids: list[str], n: int = 3) -> dict[str, list[dict]]:
    """Programme mentee id -> its published recommendations (rank order, with the mentor's
    domains and the explanation); ``n`` listed mentees when no ids are given. Empty when
    nothing is published."""
    with engine.connect() as conn:
        if not mentee_ids:
            mentee_ids = conn.execute(sql("queries/some_mentees.sql"), {"n": n}).scalars().all()
        return {mentee: [dict(r) for r in conn.execute(sql("queries/mentee_top_k.sql"),
                                                       {"mentee_id": mentee}).mappings()]
                for mentee in mentee_ids}

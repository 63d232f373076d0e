"""Alembic environment: runs revisions against the URL matcher is configured with."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from matcher.schema import metadata

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from matcher.db import database_url

    return database_url()


def _ours(name, type_, parent_names) -> bool:
    """Compare only matcher's schemas (public and synthetic_truth) with the models."""
    if type_ == "schema":
        return name in (None, "public", "synthetic_truth")
    return True


def run_migrations_online() -> None:
    given = config.attributes.get("connection")  # set by tests (pytest-alembic passes an Engine)
    if isinstance(given, Connection):
        _run(given)
        return
    engine = given or engine_from_config({"sqlalchemy.url": _url()}, prefix="sqlalchemy.",
                                         poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True,
                      include_schemas=True, include_name=_ours)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `matcher db upgrade`")
run_migrations_online()

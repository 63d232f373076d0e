"""Running alembic revisions from Python (``matcher db upgrade|downgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from matcher.errors import SchemaNotCurrent
from matcher.settings import ALEMBIC_DIR


def alembic_config(url: str) -> Config:
    """An alembic config for the revisions in ``alembic/``, targeting ``url``."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    # alembic's config is ConfigParser-based: '%' must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def require_current(engine: Engine) -> None:
    """Raise :class:`SchemaNotCurrent`, saying what to run, unless ``engine``'s database is
    at this matcher's newest revision."""
    from alembic.script import ScriptDirectory

    from matcher.db import describe

    current = current_revision(engine)
    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    if current == head:
        return
    where = describe(engine)
    if current is None:
        raise SchemaNotCurrent(f"{where} has no matcher tables yet: run `matcher db upgrade`")
    raise SchemaNotCurrent(f"{where} is at schema revision {current}, this matcher needs "
                           f"{head}: run `matcher db upgrade` (a newer revision means the "
                           "database was upgraded by a newer matcher)")


def current_revision(engine: Engine) -> str | None:
    """The revision ``engine``'s database is at (None before the first upgrade)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()

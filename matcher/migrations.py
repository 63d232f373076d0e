"""Running alembic revisions from Python (``matcher db upgrade|downgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

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


def current_revision(url: str) -> str | None:
    import sqlalchemy as sa
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()

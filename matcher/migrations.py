"""Running alembic revisions from Python (``matcher db upgrade|downgrade``)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from matcher.errors import MatcherError, SchemaNotCurrent
from matcher.settings import ALEMBIC_DIR


def alembic_config(url: str) -> Config:
    """An alembic config for the revisions in ``alembic/``, targeting ``url``."""
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    # alembic's config is ConfigParser-based: '%' must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    _known(revision)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    _known(revision)
    command.downgrade(alembic_config(url), revision)


def revisions() -> list[str]:
    """Every revision this matcher knows, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(""))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def head_revision() -> str:
    return revisions()[-1]


def _known(revision: str) -> None:
    """:class:`MatcherError` naming the known revisions unless ``revision`` is one of them
    (or head/base)."""
    known = revisions()
    relative = revision[:1] in "+-" and revision[1:].isdigit()  # alembic's -1, +2
    if revision not in ("head", "base", *known) and not relative:
        raise MatcherError(f"unknown schema revision {revision!r}; this matcher knows "
                           f"{', '.join(known)} (and 'head', 'base')")


def require_current(engine: Engine) -> None:
    """Raise :class:`SchemaNotCurrent`, saying what to run, unless ``engine``'s database is
    at this matcher's newest revision."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = engine.url.render_as_string(hide_password=True)
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

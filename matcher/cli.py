"""The ``matcher`` command line: one group, a subcommand per job."""

from __future__ import annotations

import logging
import sys

import click

from matcher.errors import MatcherError
from matcher.settings import LOG_LEVELS, get_settings

log = logging.getLogger("matcher")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None,
              help="How much to log (default: MATCHER_LOG_LEVEL or INFO).")
def cli(log_level: str | None) -> None:
    """matcher: recommend mentors to mentees from a PostgreSQL database.

    \b
    The database is MATCHER_DATABASE_URL (any PostgreSQL >= 14); when it is unset, matcher
    starts an embedded PostgreSQL in .matcher/pgdata and uses that.

    \b
    A typical first run:
      matcher db upgrade            create or update the tables
      matcher seed --scale small    fill them with a synthetic programme
      matcher train                 train and compare models, register the champion
      matcher score                 publish top-K mentors per mentee
      matcher show                  print some mentees' recommendations
    """
    level = (log_level or get_settings().log_level).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S", stream=sys.stderr)
    for noisy in ("pgserver", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


@cli.group()
def db() -> None:
    """Database: where it is, and its schema (alembic revisions)."""


@db.command("url")
def db_url() -> None:
    """Print the database URL in use (to connect with psql or a BI tool)."""
    from matcher.db import database_url

    url = database_url()
    click.echo(url.replace("postgresql+psycopg2://", "postgresql://", 1))


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply schema revisions up to REVISION (default: the newest, 'head')."""
    from matcher import migrations
    from matcher.db import make_engine

    engine = make_engine()
    migrations.upgrade(engine.url.render_as_string(hide_password=False), revision)
    click.echo(f"schema at revision {migrations.current_revision(_url(engine))}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert schema revisions down to REVISION ('base' removes every matcher table).

    This deletes data in the reverted tables.
    """
    from matcher import migrations
    from matcher.db import make_engine

    engine = make_engine()
    migrations.downgrade(_url(engine), revision)
    click.echo(f"schema at revision {migrations.current_revision(_url(engine)) or 'base'}")


@db.command("status")
def db_status() -> None:
    """Show the schema revision and each table with its row count."""
    from matcher import migrations
    from matcher.db import describe, make_engine
    from matcher.schema_status import table_counts

    engine = make_engine()
    click.echo(f"database: {describe(engine)}")
    revision = migrations.current_revision(_url(engine))
    click.echo(f"revision: {revision or 'none (run: matcher db upgrade)'}")
    for name, kind, rows in table_counts(engine):
        click.echo(f"  {name:<28} {kind:<6} {rows:>10,} rows")


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def main() -> None:
    """Entry point: run the CLI, turning known errors into one line and an exit code."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except MatcherError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)

"""`matcher db ...` and `matcher runs`: where the database is, its schema, who may read
it, and the run log."""

from __future__ import annotations

import click

from matcher.cli.group import cli


@cli.group()
def db() -> None:
    """Database: where it is, and its schema (alembic revisions)."""


@db.command("url")
def db_url() -> None:
    """Print the database URL in use (to connect with psql or a BI tool)."""
    from matcher.db import database_url

    url = database_url()
    click.echo(url.replace("postgresql+psycopg2://", "postgresql://", 1))


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL that matcher started in its data folder.

    matcher leaves that server running between commands so the next one starts in
    milliseconds; this stops it (the next matcher command starts it again). Data is kept;
    open sessions (psql, a running matcher command) are ended, and a run ended that way
    leaves the published batch as it was. With MATCHER_DATABASE_URL set, matcher does not
    manage the server and this does nothing.
    """
    from matcher.db import stop_embedded_server
    from matcher.settings import get_settings

    settings = get_settings()
    if settings.database_url:
        click.echo("MATCHER_DATABASE_URL is set: that server is not matcher's to stop")
        return
    stopped = stop_embedded_server(settings.pgdata_dir)
    click.echo(f"embedded PostgreSQL in {settings.pgdata_dir} "
               + ("stopped" if stopped else "was not running"))


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply schema revisions up to REVISION (default: the newest, 'head')."""
    from matcher import migrations
    from matcher.db import make_engine

    engine = make_engine(schema_required=False)
    migrations.upgrade(_url(engine), revision)
    click.echo(f"schema at revision {migrations.current_revision(engine)}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert schema revisions down to REVISION ('base' removes every matcher table).

    This deletes data in the reverted tables.
    """
    from matcher import migrations
    from matcher.db import make_engine

    engine = make_engine(schema_required=False)
    migrations.downgrade(_url(engine), revision)
    click.echo(f"schema at revision {migrations.current_revision(engine) or 'base'}")


@db.command("status")
def db_status() -> None:
    """Show the schema revision and each table with its row count."""
    from matcher import migrations
    from matcher.db import describe, make_engine
    from matcher.schema_status import table_counts

    engine = make_engine(schema_required=False)
    click.echo(f"database: {describe(engine)}")
    revision = migrations.current_revision(engine)
    click.echo(f"revision: {revision or 'none (run: matcher db upgrade)'}")
    for name, kind, rows in table_counts(engine):
        click.echo(f"  {name:<28} {kind:<6} {rows:>10,} rows")
    if revision == migrations.head_revision():
        from matcher.runlog import recent_runs

        click.echo("last runs (all: matcher runs):")
        _print_runs(recent_runs(engine, limit=5))


@db.command("grant-reader")
@click.argument("role")
@click.option("--create", is_flag=True, help="Create ROLE (NOLOGIN) if it does not exist.")
def db_grant_reader(role: str, create: bool) -> None:
    """Let ROLE read current_recommendations, and nothing else.

    The view reads the tables with its owner's rights, so ROLE needs no grant on any table;
    it keeps working after every publish. Give ROLE a login and password yourself, or
    GRANT it to an application's login role.
    """
    from matcher.db import grant_reader, make_engine

    grant_reader(make_engine(), role, create)
    click.echo(f"{role} may SELECT from current_recommendations")


@cli.command("runs")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True,
              help="How many runs to show, newest first.")
@click.option("--job", help="Only runs of this job (score, retrain, train, import, seed, ...).")
def runs_command(limit: int, job: str | None) -> None:
    """The run log: the newest runs of every job with their status and error.

    A run shown as 'abandoned' was left running by a process that is gone (killed, or its
    database session was closed); the next run of any job records it as failed.
    """
    from matcher.db import make_engine
    from matcher.runlog import recent_runs

    rows = recent_runs(make_engine(), limit=limit, job=job)
    if not rows:
        click.echo("no runs yet")
    _print_runs(rows)


def _print_runs(rows: list[dict]) -> None:
    for r in rows:
        took = (f"{(r['finished_at'] - r['started_at']).total_seconds():.1f} s"
                if r["finished_at"] else "-")
        error = f"  {r['error'].splitlines()[0][:160]}" if r["error"] else ""
        click.echo(f"  run {r['id']:<6} {r['job']:<16} {r['status']:<10} "
                   f"{r['started_at']:%Y-%m-%d %H:%M:%S}  {took:>9}{error}")


def _url(engine) -> str:
    return engine.url.render_as_string(hide_password=False)

"""The ``matcher`` command line: one click group (:mod:`matcher.cli.group`), its commands in
one module per section of ``matcher --help``. Commands only parse arguments, call one
function of the stage they run, and print; errors a person can act on become one line and
an exit code here, in :func:`main`.
"""

from __future__ import annotations

import sys

import click
import psycopg2
import sqlalchemy.exc

from matcher.cli import admin, data, database, models, nightly  # noqa: F401  (register commands)
from matcher.cli.group import cli
from matcher.errors import ConnectionLost, MatcherError

__all__ = ["cli", "main"]


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
    except (sqlalchemy.exc.DBAPIError, psycopg2.Error) as exc:
        from matcher.db import is_disconnect
        from matcher.lease import first_line

        lost = is_disconnect(exc)
        click.echo(f"error: {'lost the database connection' if lost else 'database error'}: "
                   f"{first_line(exc)}", err=True)
        sys.exit(ConnectionLost.exit_code if lost else 1)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)

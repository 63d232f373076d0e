"""The command line as a person uses it: help texts, one-line errors, the db commands."""

import subprocess
import sys

import pytest


def run_matcher(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "matcher", *args], capture_output=True,
                          text=True, env=full_env, timeout=300)


def _commands(group, prefix=()):
    import click

    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help_text():
    from click.testing import CliRunner

    from matcher.cli import cli

    runner = CliRunner()
    paths = [(), *_commands(cli)]
    for path in paths:
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output
        # the first line of the docstring is shown: something a newcomer can read
        description = result.output.split("\n\n")[1].strip()
        assert len(description) > 15, (path, description)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres@127.0.0.1:1/none", "cannot connect to"),
        ("mysql://x@y/z", "must point to PostgreSQL"),
        ("::::", "not a valid database URL"),
    ],
)
def test_bad_database_url_gives_one_clear_line_and_nonzero_exit(url, expected):
    result = run_matcher("db", "status", env={"MATCHER_DATABASE_URL": url})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


def test_db_status_lists_tables_with_counts(db_url):
    result = run_matcher("db", "status")
    assert result.returncode == 0, result.stderr
    from alembic.script import ScriptDirectory

    from matcher.migrations import alembic_config

    head = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert f"revision: {head}" in result.stdout
    for table in ("mentors", "mentees", "interactions", "recommendations",
                  "current_recommendations", "model_versions"):
        assert table in result.stdout


def test_db_url_prints_a_url_psql_understands(db_url):
    result = run_matcher("db", "url")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("postgresql://")


def test_a_database_without_the_schema_gets_one_line_saying_to_upgrade(database_factory):
    url = database_factory.create()  # empty: never migrated
    env = {"MATCHER_DATABASE_URL": url}
    result = run_matcher("import", "--mentors", "mentors.csv", env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("has no matcher tables yet: run `matcher db upgrade`")

    assert run_matcher("db", "upgrade", "0002", env=env).returncode == 0
    result = run_matcher("score", env=env)
    assert "is at schema revision 0002" in result.stderr and "Traceback" not in result.stderr
    assert run_matcher("db", "upgrade", env=env).returncode == 0
    assert "schema revision" not in run_matcher("models", "list", env=env).stderr
    database_factory.drop(url)


@pytest.mark.parametrize("command", ["train", "retrain"])
def test_algorithms_option_names_every_algorithm_and_refuses_unknown_ones(command):
    from click.testing import CliRunner

    from matcher.algorithms import ALGORITHMS
    from matcher.cli import cli
    from matcher.cli.models import ALGORITHM_NAMES

    assert tuple(ALGORITHMS) == ALGORITHM_NAMES
    result = CliRunner().invoke(cli, [command, "--algorithms", "logistic,svm"])
    assert result.exit_code == 2
    assert "unknown ['svm']; choose from logistic, random_forest" in result.output


def test_upgrading_to_an_unknown_revision_lists_the_known_ones(db_url):
    from matcher import migrations

    result = run_matcher("db", "upgrade", "0099", env={"MATCHER_DATABASE_URL": db_url})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("error: unknown schema revision '0099'; this matcher knows "
                           + ", ".join(migrations.revisions()))

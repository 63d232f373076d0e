"""Importing a programme's CSV files: round trip, idempotence, all-or-nothing errors, and
bulk loads that rebuild indexes and foreign keys."""

import logging
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from matcher import bulk, importer, loader
from matcher.cli import cli
from matcher.formats import FORMATS
from tests.helpers import (
    PROGRAMME_TABLES,
    count_rows,
    index_and_constraint_definitions,
    invoke,
    seed,
    table_contents,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"


def import_args(folder: Path, feedback: bool = True) -> list[str]:
    args = ["import", "--mentors", str(folder / "mentors.csv"),
            "--mentees", str(folder / "mentees.csv"),
            "--interactions", str(folder / "interactions.csv")]
    return [*args, "--feedback", str(folder / "feedback.csv")] if feedback else args



def test_skipping_bad_rows_imports_the_rest_and_reports_every_problem(db_url, tmp_path):
    for example in EXAMPLES.glob("*.csv"):
        (tmp_path / example.name).write_text(example.read_text())
    mentors = (tmp_path / "mentors.csv").read_text()
    (tmp_path / "mentors.csv").write_text(mentors.replace(",3,", ",three,", 1))  # M-001
    report = tmp_path / "problems.txt"
    output = invoke(*import_args(tmp_path), "--skip-bad-rows", str(report))

    # M-001 is left out, and so are the rows naming M-001: interaction line 2 and
    # feedback line 2
    problems = report.read_text().splitlines()
    assert problems[0].startswith("matcher import: 3 row(s) skipped for the 3 problem(s)")
    assert problems[1:] == [
        "mentors.csv:2: column 'capacity': 'three' is not a whole number",
        "interactions.csv:2: column 'mentor_id': mentor 'M-001' is left out for the "
        "problem on its own row",
        "feedback.csv:2: column 'mentor_id': mentor 'M-001' is left out for the problem on "
        "its own row"]
    assert "3 rows with problems skipped" in output
    assert count_rows(db_url) == {"mentors": 2, "mentees": 3, "interactions": 2,
                                  "recommendation_feedback": 2}
    assert "M-001" not in table_contents(db_url)["mentors"]["external_id"].tolist()


def test_skipping_bad_rows_still_stops_on_a_bad_header(db_url, tmp_path):
    for example in EXAMPLES.glob("*.csv"):
        (tmp_path / example.name).write_text(example.read_text())
    mentees = (tmp_path / "mentees.csv").read_text()
    (tmp_path / "mentees.csv").write_text(mentees.replace("goals", "goal", 1))
    report = tmp_path / "problems.txt"
    result = CliRunner().invoke(cli, [*import_args(tmp_path), "--skip-bad-rows", str(report)])
    assert result.exit_code != 0
    assert "mentees.csv:1: column 'goal': unknown column" in str(result.exception)
    assert count_rows(db_url) == dict.fromkeys(PROGRAMME_TABLES, 0)
    assert not report.exists()


@pytest.fixture
def bulk_from_one_row(monkeypatch, caplog):
    """Small test files count as bulk loads; the fixture returns the tables bulk-loaded."""
    monkeypatch.setattr(bulk, "MIN_ROWS", 1)
    caplog.set_level(logging.INFO, logger="matcher.bulk")

    def bulk_loaded() -> set[str]:
        return {r.args[0] for r in caplog.records
                if r.name == "matcher.bulk" and r.msg.startswith("bulk load into %s: rebuilt")}
    return bulk_loaded


def test_exported_world_imports_into_a_fresh_database_unchanged(
        db_url, database_factory, template_url, tmp_path, monkeypatch, bulk_from_one_row):
    seed("--scale", "tiny")
    invoke("export", "--out", str(tmp_path))
    original = table_contents(db_url)

    from sqlalchemy.engine import make_url
    fresh = database_factory.create(template=make_url(template_url).database)
    monkeypatch.setenv("MATCHER_DATABASE_URL", fresh)
    invoke(*import_args(tmp_path))
    imported = table_contents(fresh)
    for name in original:
        pd.testing.assert_frame_equal(original[name], imported[name], obj=name)
    # loaded into empty tables: every table took the bulk path and got back every index
    # and constraint exactly as the migrations define them
    assert bulk_from_one_row() == set(PROGRAMME_TABLES)
    assert (index_and_constraint_definitions(fresh)
            == index_and_constraint_definitions(template_url))
    database_factory.drop(fresh)


def test_reimporting_changes_nothing_and_an_updated_file_updates(
        db_url, tmp_path, caplog, bulk_from_one_row):
    invoke(*import_args(EXAMPLES))
    assert bulk_from_one_row() == set(PROGRAMME_TABLES)
    before = table_contents(db_url)
    caplog.clear()
    output = invoke(*import_args(EXAMPLES))
    assert bulk_from_one_row() == set(), "a re-import does not double any table"
    assert "0 new, 0 updated" in output and " 1 new" not in output
    for name, frame in table_contents(db_url).items():
        pd.testing.assert_frame_equal(before[name], frame, obj=name)

    mentors = (EXAMPLES / "mentors.csv").read_text().replace(",3,", ",4,", 1)
    (tmp_path / "mentors.csv").write_text(mentors)
    output = invoke("import", "--mentors", str(tmp_path / "mentors.csv"))
    assert "mentors: 0 new, 1 updated" in output


def test_example_files_import_with_bom_and_defaults(db_url, tmp_path):
    text = (EXAMPLES / "mentees.csv").read_text()
    (tmp_path / "mentees.csv").write_bytes("\ufeff".encode() + text.encode())
    invoke("import", "--mentors", str(EXAMPLES / "mentors.csv"),
           "--mentees", str(tmp_path / "mentees.csv"))
    assert count_rows(db_url)["mentees"] == len(text.strip().splitlines()) - 1


DEFECTS = [
    # (file, original text, replacement, expected line, column, reason fragment)
    ("mentors.csv", "mentor_id,", "mentor_idx,", 1, "mentor_idx", "unknown column"),
    ("mentors.csv", "M-001,", ",", 2, "mentor_id", "required value is missing"),
    ("mentors.csv", ",3,", ",three,", 2, "capacity", "'three' is not a whole number"),
    ("mentors.csv", ",3,", ",-1,", 2, "capacity", "below the minimum 0"),
    ("mentors.csv", "Europe/Berlin", "Europe/Berlinn", 2, "timezone", "not an IANA time zone"),
    ("mentors.csv", "mon 18:00-21:00", "mon 18:00-27:00", 2, "availability", "not a time of day"),
    ("mentors.csv", "M-002,", "M-001,", 3, "mentor_id", "duplicate mentor_id 'M-001'"),
    ("mentees.csv", ",junior,", ",guru,", 2, "experience_level", "'guru' is not one of"),
    ("interactions.csv", ",5\n", ",6\n", 2, "rating", "above the maximum 5"),
    ("interactions.csv", "E-001,M-001", "E-001,M-999", 2, "mentor_id", "unknown mentor 'M-999'"),
    ("interactions.csv", "2025-03-01T18:00:00+01:00", "2025-03-01T18:00:00", 2, "requested_at",
     "has no UTC offset"),
    ("interactions.csv", ",completed,", ",finished,", 2, "status", "'finished' is not one of"),
    ("feedback.csv", ",accepted,", ",loved,", 2, "action", "'loved' is not one of"),
    ("feedback.csv", "10:00:00Z,accepted\n", "10:00:00Z,maybe\n", 2, "mentor_response",
     "'maybe' is not one of"),
    ("feedback.csv", "08:00:00+00:00,\n", "08:00:00+00:00,declined\n", 4, "mentor_response",
     "only an accepted recommendation (a request sent) has a mentor's answer"),
]


@pytest.mark.parametrize(("file", "old", "new", "line", "column", "reason"), DEFECTS,
                         ids=[f"{d[0]}:{d[4]}:{d[5][:20]}" for d in DEFECTS])
def test_defective_file_is_reported_precisely_and_nothing_is_written(
        db_url, tmp_path, file, old, new, line, column, reason):
    for example in EXAMPLES.glob("*.csv"):
        text = example.read_text()
        if example.name == file:
            assert old in text, f"example {file} lacks {old!r}"
            text = text.replace(old, new, 1)
        (tmp_path / example.name).write_text(text)
    result = CliRunner().invoke(cli, import_args(tmp_path))
    assert result.exit_code != 0
    message = str(result.exception)
    assert f"{file}:{line}: column '{column}': " in message, message
    assert reason in message, message
    assert "nothing was imported" in message
    assert count_rows(db_url) == dict.fromkeys(count_rows(db_url), 0)


def test_all_problems_of_all_files_are_reported_at_once(db_url, tmp_path):
    for example in EXAMPLES.glob("*.csv"):
        (tmp_path / example.name).write_text(example.read_text())
    mentors = (tmp_path / "mentors.csv").read_text()
    (tmp_path / "mentors.csv").write_text(mentors.replace(",3,", ",x,").replace(",2,", ",y,"))
    interactions = (tmp_path / "interactions.csv").read_text()
    (tmp_path / "interactions.csv").write_text(interactions.replace(",5\n", ",9\n"))
    result = CliRunner().invoke(cli, import_args(tmp_path))
    message = str(result.exception)
    assert "3 problem(s)" in message, message
    assert "mentors.csv:2:" in message and "mentors.csv:3:" in message
    assert "interactions.csv:2:" in message


def _example_data(engine) -> loader.Dataset:
    """The example files, read and checked as ``matcher import`` does."""
    with engine.connect() as conn:
        zones = set(loader.timezone_offsets(conn))
    problems = importer.Problems()
    frames = {name: importer.read_file(EXAMPLES / f"{name}.csv", fmt, zones, problems)
              .reset_index(drop=True) for name, fmt in FORMATS.items()}
    problems.raise_if_any()
    return loader.Dataset(**frames)


def test_a_failure_after_a_bulk_load_restores_tables_indexes_and_constraints(
        db_url, engine, bulk_from_one_row):
    definitions = index_and_constraint_definitions(db_url)
    with pytest.raises(RuntimeError, match="crash"), engine.begin() as conn:
        loader.load(conn, _example_data(engine))
        assert bulk_from_one_row() == set(PROGRAMME_TABLES)
        raise RuntimeError("crash after loading, before commit")
    assert count_rows(db_url) == dict.fromkeys(PROGRAMME_TABLES, 0)
    assert index_and_constraint_definitions(db_url) == definitions


def test_a_table_in_use_is_loaded_row_by_row_without_waiting(
        db_url, engine, caplog, bulk_from_one_row):
    reader = sa.create_engine(db_url, poolclass=sa.pool.NullPool)
    with reader.connect() as other:
        other.execute(sa.text("SELECT count(*) FROM mentors"))  # holds a lock until rollback
        invoke(*import_args(EXAMPLES))
        other.rollback()
    reader.dispose()
    # interactions and feedback refer to mentors: dropping their foreign keys would wait
    assert bulk_from_one_row() == {"mentees"}
    assert "bulk load into mentors: mentors in use by another session" in caplog.text
    assert "bulk load into interactions: interactions or mentees or mentors in use" in caplog.text
    assert count_rows(db_url)["mentors"] == len((EXAMPLES / "mentors.csv").read_text()
                                                .strip().splitlines()) - 1


BYTE_DEFECTS = [
    # (file, old bytes, new bytes, line, column, reason)
    ("mentors.csv", b"likes teaching", b"likes t\xe9aching", 2, "bio",
     "contains bytes that are not UTF-8 (0xe9)"),
    ("mentors.csv", b"Data scientist who likes teaching", b"x" * 1_048_576, 2, "bio",
     "is 1,048,576 characters long, more than the 100,000 allowed"),
    ("feedback.csv", b"2025-02-20T08:00:00Z,accepted,2025-02-21T10:00:00Z",
     b"2031-02-20T08:00:00Z,accepted,2031-02-21T10:00:00Z", 2, "shown_at",
     "'2031-02-20T08:00:00Z' is in the future"),
]


@pytest.mark.parametrize(("file", "old", "new", "line", "column", "reason"), BYTE_DEFECTS,
                         ids=[d[5][:24] for d in BYTE_DEFECTS])
def test_bad_bytes_huge_fields_and_future_times_name_row_and_column(
        db_url, tmp_path, file, old, new, line, column, reason):
    for example in EXAMPLES.glob("*.csv"):
        data = example.read_bytes()
        if example.name == file:
            assert old in data
            data = data.replace(old, new, 1)
        (tmp_path / example.name).write_bytes(data)
    result = CliRunner().invoke(cli, import_args(tmp_path))
    assert result.exit_code != 0
    message = str(result.exception)
    assert f"{file}:{line}: column '{column}': {reason}" in message, message[:500]
    assert count_rows(db_url) == dict.fromkeys(count_rows(db_url), 0)

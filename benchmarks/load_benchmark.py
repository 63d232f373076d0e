"""Seeding and import speed (issue: data in).

Seeds a world, exports it to CSV, imports the CSV into a second empty database, and
compares matcher's load rate per table with two raw COPY rates of the same rows:

* into a plain table of the same width (no keys, no indexes, no foreign keys), and
* into the real target table (same rows with ids already resolved, so only the table's own
  primary/unique keys, indexes, CHECKs and foreign-key triggers cost anything).

The second is the physical limit for loading into this schema: nothing that keeps the
constraints can beat it. Prints rows/s and both ratios.

    .venv/bin/python benchmarks/load_benchmark.py --scale medium
"""

from __future__ import annotations

import io
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from benchmarks.common import parse, scale_parser, scratch_database
from matcher import importer, loader
from matcher.exporter import export_files
from matcher.formats import FORMATS
from matcher.seed import seed_database

PLAIN_TABLES = """
CREATE TEMP TABLE plain_mentors (mentor_id text, domains text[], skills text[], industry text,
  timezone text, languages text[], style text, experience_years int, capacity int,
  availability text, bio text, active boolean, availability_utc bit(672));
CREATE TEMP TABLE plain_mentees (mentee_id text, domains text[], skills text[], industry text,
  timezone text, languages text[], preferred_style text, experience_level text,
  availability text, goals text, active boolean, availability_utc bit(672));
CREATE TEMP TABLE plain_interactions (mentee_id text, mentor_id text,
  requested_at timestamptz, status text, ended_at timestamptz, rating smallint);
CREATE TEMP TABLE plain_feedback (mentee_id text, mentor_id text, rank smallint,
  shown_at timestamptz, action text, acted_at timestamptz);
"""


def main() -> None:
    parser = scale_parser(__doc__, "medium")
    args, n_mentors, n_mentees = parse(parser)
    as_of = datetime(2026, 11, 1, tzinfo=UTC)

    with scratch_database() as seeded_url, tempfile.TemporaryDirectory() as folder:
        engine = sa.create_engine(seeded_url)
        summary = seed_database(engine, n_mentors, n_mentees, 42, as_of, replace=False)
        total = sum(summary.rows.values())
        print(f"seed {args.scale} ({n_mentors:,} mentors x {n_mentees:,} mentees): "
              f"{summary.seconds:.1f} s end to end, {total / summary.seconds:,.0f} rows/s")
        export_files(engine, Path(folder))
        engine.dispose()

        with scratch_database() as import_url:
            engine = sa.create_engine(import_url)
            files = {name: Path(folder) / f"{name}.csv" for name in FORMATS}
            # 1. the import command's work: parse and validate every file, then load.
            start = time.perf_counter()
            report = importer.import_files(engine, files["mentors"], files["mentees"],
                                           files["interactions"], files["feedback"])
            import_seconds = time.perf_counter() - start
            rows = {name: report.inserted[name] for name in FORMATS}
            print(f"import (parse + validate + load): {sum(rows.values()):,} rows in "
                  f"{import_seconds:.1f} s, {sum(rows.values()) / import_seconds:,.0f} rows/s")

            # 2. per table: matcher's load (COPY to staging + upsert into indexed tables)
            #    against raw COPY of the same rows into a plain table of the same width.
            problems = importer.Problems()
            with engine.connect() as conn:
                zones = set(loader.timezone_offsets(conn))
            frames = {name: importer.read_file(files[name], FORMATS[name], zones, problems)
                      .reset_index(drop=True) for name in FORMATS}
            print(f"{'table':<14}{'rows':>9}{'matcher':>10}{'raw plain':>11}{'raw target':>12}"
                  f"{'vs plain':>10}{'vs target':>11}   (rows/s)")
            for name in FORMATS:
                matcher, plain, target = _rates(engine, name, frames)
                print(f"{name:<14}{len(frames[name]):>9,}{matcher:>10,.0f}{plain:>11,.0f}"
                      f"{target:>12,.0f}{matcher / plain:>10.2f}{matcher / target:>11.2f}")
            engine.dispose()


TARGETS = {"mentors": "mentors", "mentees": "mentees", "interactions": "interactions",
           "feedback": "recommendation_feedback"}


def _rates(engine, name: str, frames: dict) -> tuple[float, float, float]:
    """Rows/s of loading table ``name`` with matcher's loader, with raw COPY into a plain
    table, and with raw COPY of the loaded rows back into the emptied target table."""
    # matcher: the table alone, into an empty table (people it refers to already loaded)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE mentors, mentees CASCADE"))
        needed = {"interactions": ("mentors", "mentees"), "feedback": ("mentors", "mentees")}
        if name in needed:
            loader.load(conn, loader.Dataset(mentors=frames["mentors"],
                                             mentees=frames["mentees"]))
        start = time.perf_counter()
        loader.load(conn, loader.Dataset(**{name: frames[name]}))
        matcher_seconds = time.perf_counter() - start
        target_seconds = _copy_back(conn, TARGETS[name])
        conn.rollback()
    # raw: COPY the same rows into a plain table with the same columns
    with engine.begin() as conn:
        conn.execute(sa.text(PLAIN_TABLES))
        fmt = FORMATS[name]
        extra = None
        if name in ("mentors", "mentees"):
            extra = loader.availability_bits(frames[name], loader.timezone_offsets(conn))
        columns = fmt.column_names + (["availability_utc"] if extra else [])
        rows = loader.frame_to_csv(frames[name], fmt, extra)
        start = time.perf_counter()
        loader.copy_rows(conn, f"plain_{name}", columns, rows)
        raw_seconds = time.perf_counter() - start
        conn.rollback()
    n = len(frames[name])
    return n / matcher_seconds, n / raw_seconds, n / target_seconds


def _copy_back(conn, table: str) -> float:
    """Seconds to COPY ``table``'s rows (ids resolved) back into it after emptying it."""
    cursor = conn.connection.driver_connection.cursor()
    buffer = io.StringIO()
    cursor.copy_expert(f"COPY {table} TO STDOUT", buffer)
    cursor.execute(f"TRUNCATE {table} CASCADE")
    buffer.seek(0)
    start = time.perf_counter()
    cursor.copy_expert(f"COPY {table} FROM STDIN", buffer)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

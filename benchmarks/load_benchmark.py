"""Seeding and import speed (issue: data in).

Seeds a world, exports it to CSV, imports the CSV into a second empty database, and
compares matcher's load rate per table with two raw COPY rates of the same rows:

* into a plain table of the same width (no keys, no indexes, no foreign keys), and
* into the real target table (same rows with ids already resolved, so only the table's own
  primary/unique keys, indexes, CHECKs and foreign-key triggers cost anything).

matcher's load (format the rows, COPY them into a staging table, upsert by external id) is
timed both ways it runs: as a bulk load, which drops the table's plain indexes and foreign
keys and rebuilds them afterwards (first imports, seeds: see matcher/bulk.py), and row by
row with every index and foreign key in place (loads that add less than the table holds).
Prints rows/s (the best of --repeat runs per table) and the ratios.

    .venv/bin/python -m benchmarks.load_benchmark --scale medium
"""

from __future__ import annotations

import io
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from benchmarks.common import parse, scale_parser, scratch_database
from matcher import bulk, importer, loader, pgcopy
from matcher.exporter import export_files
from matcher.formats import FORMATS
from matcher.synthetic.seed import seed_database

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
    parser.add_argument("--repeat", type=int, default=3,
                        help="Time each per-table load this many times and keep the best "
                             "(default 3): single runs of a second or less are noisy.")
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
            print(f"{'table':<14}{'rows':>9}{'bulk':>9}{'by row':>9}{'raw plain':>11}"
                  f"{'raw target':>12}   (rows/s)")
            ratios, steps = [], []
            for name in FORMATS:
                bulk_rate, row_rate, plain, target, bulk_steps = _rates(engine, name, frames,
                                                                        args.repeat)
                print(f"{name:<14}{len(frames[name]):>9,}{bulk_rate:>9,.0f}{row_rate:>9,.0f}"
                      f"{plain:>11,.0f}{target:>12,.0f}")
                ratios.append((name, bulk_rate, row_rate, plain, target))
                steps.append((name, plain, bulk_steps))
            print(f"\n{'ratios':<14}{'bulk/plain':>11}{'bulk/target':>12}{'row/plain':>11}"
                  f"{'row/target':>11}{'bulk/row':>10}")
            for name, bulk_rate, row_rate, plain, target in ratios:
                print(f"{name:<14}{bulk_rate / plain:>11.2f}{bulk_rate / target:>12.2f}"
                      f"{row_rate / plain:>11.2f}{row_rate / target:>11.2f}"
                      f"{bulk_rate / row_rate:>10.2f}")
            print("\nwhere a bulk load's time goes (format rows as COPY text in Python, COPY "
                  "them into the staging table, upsert into the target and rebuild):")
            print(f"{'table':<14}{'format':>8}{'copy':>8}{'write':>8}"
                  f"{'staging COPY rows/s':>21}{'vs raw plain':>14}")
            for name, plain, bulk_steps in steps:
                total = sum(bulk_steps.values())
                copy_rate = len(frames[name]) / bulk_steps["copy"]
                print(f"{name:<14}" + "".join(f"{bulk_steps[s] / total:>8.0%}"
                                              for s in ("format", "copy", "write"))
                      + f"{copy_rate:>21,.0f}{copy_rate / plain:>14.2f}")
            engine.dispose()


DEFAULT_MIN_ROWS = bulk.MIN_ROWS
TARGETS = {"mentors": "mentors", "mentees": "mentees", "interactions": "interactions",
           "feedback": "recommendation_feedback"}


def _rates(engine, name: str, frames: dict, repeat: int):
    """Rows/s of loading table ``name`` with matcher's loader as a bulk load and row by row,
    with raw COPY into a plain table, and with raw COPY of the loaded rows back into the
    emptied target table, each the best of ``repeat`` runs; and the fastest bulk load's
    seconds per step."""
    seconds: dict[str, list[float]] = {"bulk": [], "by row": [], "plain": [], "target": []}
    bulk_steps: list[dict[str, float]] = []
    for _ in range(repeat):
        for way, min_rows in (("bulk", 1), ("by row", float("inf"))):
            bulk.MIN_ROWS = min_rows
            with engine.begin() as conn:  # into an empty table, the people it refers to loaded
                conn.execute(sa.text("TRUNCATE mentors, mentees CASCADE"))
                if name in ("interactions", "feedback"):
                    loader.load(conn, loader.Dataset(mentors=frames["mentors"],
                                                     mentees=frames["mentees"]))
                start = time.perf_counter()
                report = loader.load(conn, loader.Dataset(**{name: frames[name]}))
                seconds[way].append(time.perf_counter() - start)
                if way == "bulk":
                    bulk_steps.append(report.seconds)
                if way == "by row":
                    seconds["target"].append(_copy_back(conn, TARGETS[name]))
                conn.rollback()
        bulk.MIN_ROWS = DEFAULT_MIN_ROWS
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
            pgcopy.copy_rows(conn, f"plain_{name}", columns, rows)
            seconds["plain"].append(time.perf_counter() - start)
            conn.rollback()
    n = len(frames[name])
    best = {way: n / min(times) for way, times in seconds.items()}
    fastest_bulk = bulk_steps[seconds["bulk"].index(min(seconds["bulk"]))]
    return best["bulk"], best["by row"], best["plain"], best["target"], fastest_bulk


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

"""Data in and out: `matcher seed`, `import`, `export`, `features`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from matcher.cli.group import cli


@cli.command("seed")
@click.option("--scale", type=click.Choice(["tiny", "small", "medium", "large"]), default="small",
              show_default=True,
              help="Preset size: tiny 60x400, small 300x3,000, medium 2,000x20,000, "
                   "large 10,000x100,000 (mentors x mentees).")
@click.option("--mentors", type=click.IntRange(1), help="Number of mentors (overrides --scale).")
@click.option("--mentees", type=click.IntRange(1), help="Number of mentees (overrides --scale).")
@click.option("--seed", "seed_value", type=int, default=42, show_default=True,
              help="Random seed: the same seed and --as-of give the same world.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day of the simulated two years of history (default: today, UTC).")
@click.option("--replace", is_flag=True,
              help="Delete all existing mentors, mentees, interactions, feedback and "
                   "recommendations first (the model registry is kept).")
def seed_command(scale, mentors, mentees, seed_value, as_of, replace) -> None:
    """Fill the database with a synthetic mentoring programme with a known ground truth.

    Two years of requests, acceptances and outcomes, plus feedback on a past recommender's
    lists, are simulated from hidden true success probabilities (kept in the
    synthetic_truth schema, which only evaluation reads). Everything is written in one
    transaction.
    """
    from datetime import UTC, datetime

    from matcher.db import make_engine
    from matcher.runlog import job_run
    from matcher.synthetic.seed import PRESETS, seed_database

    n_mentors, n_mentees = PRESETS[scale]
    n_mentors, n_mentees = mentors or n_mentors, mentees or n_mentees
    day = (as_of or datetime.now(UTC)).date()
    as_of_time = datetime(day.year, day.month, day.day, tzinfo=UTC)
    engine = make_engine()
    parameters = {"mentors": n_mentors, "mentees": n_mentees, "seed": seed_value,
                  "as_of": day.isoformat(), "replace": replace}
    with job_run(engine, "seed", parameters) as run:
        run.stage = "seeding"
        summary = seed_database(engine, n_mentors, n_mentees, seed_value, as_of_time, replace,
                                progress=sys.stderr.isatty())
        run.summary = {"rows": summary.rows, "success_rate": summary.success_rate,
                       "seconds": round(summary.seconds, 2)}
    click.echo(f"seeded a world of {n_mentors:,} mentors and {n_mentees:,} mentees "
               f"(seed {seed_value}, history up to {day})")
    for line in summary.lines():
        click.echo("  " + line)


@cli.command("import")
@click.option("--mentors", type=click.Path(dir_okay=False, path_type=Path),
              help="mentors.csv (see docs/import.md for the columns).")
@click.option("--mentees", type=click.Path(dir_okay=False, path_type=Path),
              help="mentees.csv")
@click.option("--interactions", type=click.Path(dir_okay=False, path_type=Path),
              help="interactions.csv (may name people already in the database)")
@click.option("--feedback", type=click.Path(dir_okay=False, path_type=Path),
              help="feedback.csv on past recommendations (optional)")
@click.option("--skip-bad-rows", "skip_report", metavar="REPORT",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Import the good rows, leave out rows with problems (and rows naming a "
                   "person left out), and write every problem to the file REPORT. Without "
                   "it, any problem stops the import.")
def import_command(mentors, mentees, interactions, feedback, skip_report) -> None:
    """Import a programme's own CSV files, all or nothing.

    Every file is checked first; if anything is wrong, every problem is listed with file,
    line, column and reason, and nothing is written (or, with --skip-bad-rows, the rows with
    problems are left out and listed in a report file). Rows are matched by the programme's
    ids, so importing the same files again changes nothing and an updated file updates
    those rows.
    """
    from matcher.db import make_engine
    from matcher.importer import import_files
    from matcher.runlog import job_run

    if not any((mentors, mentees, interactions, feedback)):
        raise click.UsageError("name at least one file (--mentors, --mentees, "
                               "--interactions, --feedback)")
    engine = make_engine()
    files = {"mentors": mentors, "mentees": mentees, "interactions": interactions,
             "feedback": feedback}
    with job_run(engine, "import", {k: str(v) for k, v in files.items() if v}) as run:
        run.stage = "importing"
        report = import_files(engine, mentors, mentees, interactions, feedback,
                              skip_report=skip_report)
        run.summary = {"inserted": report.inserted, "updated": report.updated,
                       "skipped": report.skipped}
    click.echo(f"imported {report}")
    if skip_report is not None:
        click.echo(f"problems: {skip_report}")


@cli.command("export")
@click.option("--out", "folder", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder to write the four CSV files into.")
def export_command(folder: Path) -> None:
    """Write mentors, mentees, interactions and feedback as CSV files in the import format."""
    from matcher.db import make_engine
    from matcher.exporter import export_files

    counts = export_files(make_engine(), folder)
    click.echo(", ".join(f"{name}.csv: {n:,} rows" for name, n in counts.items()))


@cli.group()
def features() -> None:
    """Export the feature rows the models see, as CSV, for inspection by analysts."""


@features.command("training")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV file to write.")
def features_training(out: Path) -> None:
    """One row per interaction: ids, request time, labels (accepted, success), features.

    Every feature uses only facts dated before the request (point-in-time correct).
    """
    _export_features("training", out)


@features.command("candidates")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV file to write.")
def features_candidates(out: Path) -> None:
    """One row per candidate pair for every active mentee, with features as of now."""
    _export_features("candidates", out)


def _export_features(kind: str, out: Path) -> None:
    from datetime import UTC, datetime

    from matcher.db import make_engine
    from matcher.features import export_csv

    engine = make_engine()
    with engine.begin() as conn:
        rows = export_csv(conn, kind, out, datetime.now(UTC), progress=sys.stderr.isatty())
    click.echo(f"wrote {rows:,} {kind} feature rows to {out}")

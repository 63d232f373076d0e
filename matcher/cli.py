"""The ``matcher`` command line: one group, a subcommand per job."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click
import psycopg2
import sqlalchemy.exc

from matcher.errors import ConnectionLost, MatcherError
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

    \b
    Then the loop: score every night, hand over what people did with the lists
    (matcher feedback import FILE, or matcher simulate-feedback on a synthetic world),
    and retrain weekly (matcher retrain: promotes only a better model).
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
    from matcher.seed import PRESETS, seed_database

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


ALGORITHM_NAMES = ("logistic", "random_forest", "xgboost", "xgboost_ranker")  # no import:
# matcher.algorithms loads scikit-learn and XGBoost, too slow for --help (a test checks both)


def _algorithm_list(ctx, param, value: str | None) -> list[str] | None:
    """``--algorithms a,b`` as a list of known names (None when not given)."""
    if value is None:
        return None
    chosen = [a.strip() for a in value.split(",") if a.strip()]
    unknown = sorted(set(chosen) - set(ALGORITHM_NAMES))
    if unknown or not chosen:
        raise click.BadParameter(f"unknown {unknown}; choose from {', '.join(ALGORITHM_NAMES)}")
    return chosen


@cli.command("train")
@click.option("--algorithms", default=",".join(ALGORITHM_NAMES), show_default=True,
              callback=_algorithm_list, help="Comma-separated algorithms to train.")
@click.option("--holdout", type=click.FloatRange(0.05, 0.5), default=0.2, show_default=True,
              help="Share of labelled pairs, the most recent ones, held out for testing.")
@click.option("--cv", type=click.IntRange(0), default=0,
              help="Also run grouped k-fold cross-validation by mentee on the training "
                   "part with this many folds (e.g. 5); 0 = off.")
@click.option("--oracle-mentees", type=click.IntRange(10), default=300, show_default=True,
              help="Active mentees sampled for the oracle comparison (synthetic worlds).")
@click.option("--promote/--no-promote", default=True, show_default=True,
              help="Promote the best model when it beats the champion on the main metric.")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the report (default: .matcher/reports/train-<run>).")
def train_command(algorithms, holdout, cv, oracle_mentees, promote, report_dir) -> None:
    """Train and compare models, register them, and promote the best one.

    \b
    Learns from interactions that ended (completed = 1, abandoned = 0) and from
    recommendations people acted on (accepted = 1, declined = 0; ignored ones are left
    out because lower ranks are ignored more often just for being lower). Trains on pairs
    dated before a cutoff and tests on the rest, beside three baselines (random,
    popularity, content) and the current champion. On synthetic worlds the main metric is
    oracle efficiency (true success of the top 10 vs the best possible top 10), else
    NDCG@10. Every model is registered; the best becomes champion only if it beats the
    current one. Writes a Markdown report with plots.
    """
    from matcher import report
    from matcher.db import make_engine
    from matcher.runlog import job_run
    from matcher.training import train

    engine = make_engine()
    parameters = {"algorithms": algorithms, "holdout": holdout, "cv": cv, "promote": promote}
    with job_run(engine, "train", parameters) as job:
        job.stage = "training"
        run = train(engine, algorithms, holdout_share=holdout, cv=cv, oracle_mentees=oracle_mentees,
                    promote=promote, job_run_id=job.id, progress=sys.stderr.isatty())
        folder = report_dir or get_settings().reports_dir / f"train-{job.id}"
        path = report.write(run, folder, f"Training run {job.id}")
        job.summary = {"registered": run.registered, "promoted": run.promoted,
                       "decision": run.decision, "report": str(path)}
    with pd_display():
        click.echo(run.table().to_string(float_format=lambda v: f"{v:.4f}"))
    click.echo(run.decision)
    click.echo(f"report: {path}")


@cli.command("evaluate")
@click.option("--version", "version_id", type=int,
              help="Model version to evaluate (default: the champion).")
@click.option("--holdout", type=click.FloatRange(0.05, 0.5), default=0.2, show_default=True,
              help="Share of labelled pairs, the most recent ones, to evaluate on.")
@click.option("--oracle-mentees", type=click.IntRange(10), default=300, show_default=True,
              help="Active mentees sampled for the oracle comparison (synthetic worlds).")
def evaluate_command(version_id, holdout, oracle_mentees) -> None:
    """Evaluate a registered model beside the baselines on the most recent labelled pairs.

    Note that a model is only fairly judged on pairs it was not trained on: use the same
    --holdout as its training run (see `matcher models show V`).
    """
    from datetime import UTC, datetime

    from matcher import evaluation, registry
    from matcher.db import make_engine
    from matcher.features import FeatureSession

    engine = make_engine()
    with engine.begin() as conn:
        loaded = (registry.load(conn, version_id) if version_id is not None
                  else registry.load_champion(conn))
        session = FeatureSession(conn)
        split = evaluation.time_split(evaluation.labelled_pairs(session), holdout)
        oracle = evaluation.oracle_sample(session, conn, datetime.now(UTC), oracle_mentees)
    results = [evaluation.evaluate(name, "baseline", score, False, split.test, oracle)
               for name, score in evaluation.BASELINES.items()]
    results.append(evaluation.evaluate(f"v{loaded.version_id} ({loaded.algorithm})", "model",
                                       evaluation.model_scorer(loaded.model),
                                       loaded.model.probabilistic, split.test, oracle))
    import pandas as pd

    table = pd.DataFrame.from_dict({r.name: r.metrics for r in results}, orient="index")
    click.echo(f"{len(split.test):,} held-out pairs from {split.cutoff:%Y-%m-%d}")
    with pd_display():
        click.echo(table.T.to_string(float_format=lambda v: f"{v:.4f}"))


@cli.group()
def models() -> None:
    """The model registry: list, inspect, promote and roll back model versions."""


@models.command("list")
def models_list() -> None:
    """Every registered model version, newest first."""
    from matcher import registry
    from matcher.db import make_engine

    rows = registry.versions(make_engine())
    if not rows:
        click.echo("no models yet (run: matcher train)")
    for row in rows:
        m = row["metrics"]
        main = " ".join(f"{k}={m[k]:.4f}" for k in ("oracle_efficiency", "ndcg@10", "roc_auc")
                        if isinstance(m.get(k), float))
        click.echo(f"v{row['id']:<5} {row['status']:<9} {row['algorithm']:<15} "
                   f"{row['created_at']:%Y-%m-%d %H:%M}  {main}")


@models.command("show")
@click.argument("version_id", type=int)
def models_show(version_id: int) -> None:
    """Everything the registry knows about one version (not the artifact itself)."""
    import json

    from matcher import registry
    from matcher.db import make_engine

    row = registry.show(make_engine(), version_id)
    click.echo(json.dumps(row, indent=2, default=str))


@models.command("promote")
@click.argument("version_id", type=int)
@click.option("--reason", required=True, help="Why (kept in the promotion log).")
def models_promote(version_id: int, reason: str) -> None:
    """Make VERSION_ID the champion that scoring uses (the current one is retired)."""
    from matcher import registry
    from matcher.db import make_engine

    with make_engine().begin() as conn:
        previous = registry.promote(conn, version_id, reason, forced=True)
    click.echo(f"v{version_id} is the champion (previous: {previous and f'v{previous}'})")


@models.command("rollback")
@click.option("--reason", default="manual rollback", show_default=True,
              help="Why (kept in the promotion log).")
def models_rollback(reason: str) -> None:
    """Restore the champion that the current one replaced."""
    from matcher import registry
    from matcher.db import make_engine

    with make_engine().begin() as conn:
        restored = registry.rollback(conn, reason)
    click.echo(f"v{restored} is the champion again")


@models.command("history")
def models_history() -> None:
    """The promotion log: who promoted which version when, why, and what it replaced."""
    from matcher import registry
    from matcher.db import make_engine

    for row in registry.promotions(make_engine()):
        previous = f"v{row['previous_champion_id']}" if row["previous_champion_id"] else "-"
        forced = " (forced)" if row["forced"] else ""
        click.echo(f"{row['promoted_at']:%Y-%m-%d %H:%M}  v{row['model_version_id']} "
                   f"{row['algorithm']} replaced {previous} by {row['promoted_by']}{forced}: "
                   f"{row['reason']}")


@models.command("decisions")
def models_decisions() -> None:
    """The retraining log: each `matcher retrain` decision (promoted, kept, dry run) and why."""
    from matcher import registry
    from matcher.db import make_engine

    for row in registry.decisions(make_engine()):
        challenger, champion = (f"v{row[k]}" if row[k] else "none"
                                for k in ("challenger_id", "champion_id"))
        forced = " (forced)" if row["forced"] else ""
        click.echo(f"{row['decided_at']:%Y-%m-%d %H:%M}  {row['outcome']}{forced}: "
                   f"challenger {challenger} vs champion {champion}, by "
                   f"{row['decided_by']}: {row['reason']}")


@cli.group("feedback")
def feedback_group() -> None:
    """Feedback on published recommendations (accepted / declined / ignored)."""


@feedback_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def feedback_import(file: Path) -> None:
    """Import FILE: feedback on recommendations matcher published, all or nothing.

    \b
    Columns (docs/import.md): mentee_id, mentor_id, rank, shown_at, action
    (accepted|declined|ignored), acted_at. Every row must answer a published recommendation:
    this mentor shown to this mentee at this rank by a batch published by shown_at. Any
    problem is reported with file, line, column and reason, and nothing is written.
    Re-importing the same file changes nothing.
    """
    from matcher.db import make_engine
    from matcher.importer import import_feedback
    from matcher.runlog import job_run

    engine = make_engine()
    with job_run(engine, "feedback-import", {"file": file.name}) as job:
        job.stage = "importing feedback"
        report = import_feedback(engine, file)
        job.summary = {"inserted": report.inserted, "updated": report.updated}
    click.echo(f"imported {file.name}: {report}")


@cli.command("simulate-feedback")
@click.option("--seed", "seed_value", type=int, default=None,
              help="Random seed (default: the batch id, so a batch always gets the same "
                   "answers).")
def simulate_feedback_command(seed_value) -> None:
    """Synthetic worlds: let the seeded people answer the published batch.

    \b
    A recommendation at rank r is looked at with probability 1/log2(r+1) (position bias);
    one looked at is accepted with probability min(1, 1.2 x the pair's true success
    probability from the seeder's ground truth), else declined half the time, else ignored.
    Writes one feedback row per recommendation, tied to the batch. Lets the whole loop
    (score -> feedback -> retrain) run without real users.
    """
    from matcher.db import make_engine
    from matcher.feedback import simulate

    result = simulate(make_engine(), seed_value)
    click.echo(f"batch {result.batch_id}: {result.rows:,} feedback rows "
               + ", ".join(f"{k} {v:,}" for k, v in result.actions.items()))


@cli.command("retrain")
@click.option("--algorithms", default=None, callback=_algorithm_list,
              help="Comma-separated algorithms for the challenger (default: the champion's); "
                   "with several, the best on the main metric is the challenger.")
@click.option("--metric", default=None,
              help="Main metric the challenger must improve (default: MATCHER_RETRAIN_METRIC "
                   "or ndcg@10; e.g. oracle_efficiency on synthetic worlds).")
@click.option("--margin", type=click.FloatRange(0), default=None,
              help="By how much (default: MATCHER_RETRAIN_MARGIN or 0.005).")
@click.option("--holdout", type=click.FloatRange(0.05, 0.5), default=0.2, show_default=True,
              help="Share of labelled pairs, the newest, held out (never earlier than the "
                   "champion's own training cutoff).")
@click.option("--oracle-mentees", type=click.IntRange(10), default=300, show_default=True,
              help="Active mentees sampled for coverage and (synthetic worlds) the oracle.")
@click.option("--dry-run", is_flag=True, help="Decide and report, but promote nothing.")
@click.option("--force", is_flag=True,
              help="Promote the challenger even if it fails the rules or the feedback checks "
                   "(logged as forced).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the report (default: .matcher/reports/retrain-<run>).")
def retrain_command(algorithms, metric, margin, holdout, oracle_mentees, dry_run, force,
                    report_dir) -> None:
    """Admin: learn from feedback, train a challenger, promote it only if it is better.

    \b
    Learns from interactions that ended and from recommendations people accepted or
    declined. Position bias: answered feedback is weighted by 1 / propensity of its rank
    (inverse-propensity weighting; propensity = answered share at that rank / at rank 1,
    floored at 0.1); ignored rows are not labels. Champion and challenger are scored on the
    same fresh holdout (pairs neither has trained on). The challenger is promoted only if
    it improves the main metric by the margin, calibration (ECE) and coverage of mentors
    are not worse beyond tolerance, oracle efficiency is not worse (synthetic worlds), and
    the new feedback looks sane (action mix, volume per batch, no mentor flooded).
    Otherwise the champion stays and the reason is printed. Every decision is logged
    (matcher models decisions); undo a promotion with: matcher models rollback.
    """
    from matcher import report
    from matcher.db import make_engine
    from matcher.retraining import RetrainPolicy, report_lines, retrain
    from matcher.runlog import job_run

    settings = get_settings()
    policy = RetrainPolicy(metric=metric or settings.retrain_metric,
                           margin=settings.retrain_margin if margin is None else margin,
                           holdout_share=holdout)
    engine = make_engine()
    parameters = {"algorithms": algorithms, "metric": policy.metric, "margin": policy.margin,
                  "holdout": holdout, "dry_run": dry_run, "force": force}
    with job_run(engine, "retrain", parameters) as job:
        run = retrain(engine, algorithms=algorithms, policy=policy, dry_run=dry_run, force=force,
                      oracle_mentees=oracle_mentees, job=job)
        path = None
        if run.evaluations:
            folder = report_dir or settings.reports_dir / f"retrain-{job.id}"
            path = report.write(run, folder, f"Retraining run {job.id}", report_lines(run))
        job.summary = {"outcome": run.outcome, "promoted": run.promoted,
                       "decision": run.decision, "report": str(path)}
    if run.evaluations:
        with pd_display():
            click.echo(run.table().to_string(float_format=lambda v: f"{v:.4f}"))
    for c in run.guards + run.checks:
        click.echo(f"  {'pass' if c.passed else 'FAIL'}  {c.name}: {c.detail}")
    click.echo(run.decision)
    if path:
        click.echo(f"report: {path}")


@cli.command("score")
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Recommendations per mentee.")
@click.option("--max-exposure", type=click.FloatRange(min=0.1), default=None,
              help="Cap each mentor at R x (free capacity) lists, e.g. 3; the score given up "
                   "and how evenly mentors are spread are logged. Default: no cap.")
@click.option("--chunk-size", type=click.IntRange(100), default=2000, show_default=True,
              help="Mentees per chunk (memory vs. speed).")
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Chunks scored at once, each on its own database connection (about the "
                   "number of cores).")
@click.option("--allow-shrink", is_flag=True,
              help="Publish even if the new batch lists fewer than half the mentees of the "
                   "published one (refused otherwise, as a guard against emptied or "
                   "truncated data).")
def score_command(k, max_exposure, chunk_size, workers, allow_shrink) -> None:
    """Nightly job: publish the champion's top-K mentors for every active mentee.

    \b
    Only one run at a time (a second one exits with code 75 and writes nothing). Readers of
    the current_recommendations view keep seeing the previous batch until the new one is
    complete; then it replaces it in one short transaction, which first checks that this
    run still holds the score lease (a run that lost its database session never
    publishes; exit code 76) and that the batch lists at least half the mentees of the
    published one (else exit code 4, unless --allow-shrink). If the run dies or loses its
    connection (exit code 74), the previous batch stays published and the next run cleans
    up. No active mentee or no eligible mentor: exit code 3. Keeps the newest
    MATCHER_KEEP_BATCHES published batches (default 7).
    """
    from matcher.db import make_engine
    from matcher.scoring import ScoreOptions, score

    options = ScoreOptions(k=k, max_exposure=max_exposure, chunk_size=chunk_size, workers=workers,
                           keep_batches=get_settings().keep_batches, allow_shrink=allow_shrink)
    result = score(make_engine(), options, progress=sys.stderr.isatty())
    c = result.counts
    click.echo(f"published batch {result.batch_id} (model v{result.model_version_id}): "
               f"{c['recommendations']:,} recommendations for {c['mentees']:,} mentees, "
               f"{c['pairs_scored']:,} pairs scored; {c['mentees_short_of_k']:,} mentees got "
               f"fewer than {k}")
    click.echo("exposure: " + ", ".join(f"{key} {c[key]}" for key in (
        "mentors_recommended_share", "mentor_appearances_gini", "max_lists_per_mentor",
        "mean_score_vs_plain_top_k")))
    click.echo("seconds: " + ", ".join(f"{s} {v:.1f}" for s, v in result.timings.items()))


@cli.command("show")
@click.option("--mentees", "n", type=click.IntRange(1), default=3, show_default=True,
              help="How many mentees to show.")
@click.option("--mentee", "mentee_ids", multiple=True,
              help="Show this mentee (the programme's id); repeatable.")
def show_command(n, mentee_ids) -> None:
    """Print published recommendations with the reasons behind each (current batch)."""
    from matcher.db import make_engine, sql

    engine = make_engine()
    with engine.connect() as conn:
        if not mentee_ids:
            mentee_ids = conn.execute(sql("queries/some_mentees.sql"), {"n": n}).scalars().all()
        if not mentee_ids:
            raise click.ClickException("nothing is published yet (run: matcher score)")
        for mentee in mentee_ids:
            rows = conn.execute(sql("queries/mentee_top_k.sql"),
                                {"mentee_id": mentee}).mappings().all()
            click.echo(f"mentee {mentee}:" + ("" if rows else " no recommendations"))
            for r in rows:
                reasons = ", ".join(f"{e['feature']}={e['value']} ({e['contribution']:+.2f})"
                                    for e in r["explanation"])
                click.echo(f"  {r['rank']:>2}. {r['mentor_id']:<12} score {r['score']:.3f}  "
                           f"{', '.join(r['domains'])}  because {reasons}")


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


def pd_display():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 30)


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

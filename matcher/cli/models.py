"""Models: `matcher train`, `evaluate`, `models ...`, `retrain`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from matcher.cli.group import cli
from matcher.settings import get_settings

ALGORITHM_NAMES = ("logistic", "random_forest", "xgboost", "xgboost_ranker")  # no import:


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
@click.option("--target", type=click.Choice(["success", "acceptance"]), default="success",
              show_default=True,
              help="What the models predict: success (the pairing completes) or acceptance "
                   "(the mentor accepts a request; used by the market objective of "
                   "`matcher score`). Each target has its own champion.")
@click.option("--market/--no-market", default=True, show_default=True,
              help="Synthetic worlds: also put in the report what the champions' lists would "
                   "form in the simulated market under each objective (scores every active "
                   "mentee twice; nothing is published).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the report (default: .matcher/reports/train-<run>).")
def train_command(algorithms, holdout, cv, oracle_mentees, promote, target, market,
                  report_dir) -> None:
    """Train and compare models, register them, and promote the best one.

    \b
    Learns from interactions that ended (completed = 1, abandoned = 0) and from
    recommendations people acted on (accepted = 1, declined = 0; ignored ones are left
    out because lower ranks are ignored more often just for being lower). Trains on pairs
    dated before a cutoff and tests on the rest, beside three baselines (random,
    popularity, content) and the current champion. On synthetic worlds the main metric is
    oracle efficiency (true success of the top 10 vs the best possible top 10), else
    NDCG@10. Every model is registered; the best becomes champion only if it beats the
    current one (a ranker, which gives no probability, only when nothing else was trained:
    the market objective needs P(success)). Writes a report (Markdown and one
    self-contained HTML page) with plots and, on synthetic worlds, what the champions'
    lists would form in the simulated market.

    \b
    With --target acceptance: learns P(mentor accepts a request) from every request
    (declined = 0, else 1), features as of the request; judged by ROC AUC, log loss and
    calibration (ECE); probabilistic algorithms only (the ranker is skipped).
    """
    from matcher import report
    from matcher.db import make_engine
    from matcher.runlog import job_run
    from matcher.synthetic import oracle
    from matcher.synthetic.market import compare_objectives
    from matcher.training import train

    engine = make_engine()
    parameters = {"algorithms": algorithms, "holdout": holdout, "cv": cv, "promote": promote,
                  "target": target}
    with job_run(engine, "train", parameters) as job:
        job.stage = "training"
        run = train(engine, algorithms, holdout_share=holdout, cv=cv,
                    oracle_source=oracle.source(oracle_mentees), promote=promote,
                    job_run_id=job.id, progress=sys.stderr.isatty(), target=target)
        job.stage = "simulating the champions' lists in the market"
        market_lines = compare_objectives(engine) if market else []
        folder = report_dir or get_settings().reports_dir / f"train-{job.id}"
        path = report.write(run, folder, f"Training run {job.id}", market_lines)
        job.summary = {"registered": run.registered, "promoted": run.promoted,
                       "decision": run.decision, "report": str(path)}
    with pd_display():
        click.echo(run.table().to_string(float_format=lambda v: f"{v:.4f}"))
    click.echo(run.decision)
    for line in market_lines[4:-1]:  # the table, without the heading and explanation
        click.echo(line)
    click.echo(f"report: {path}")


@cli.command("evaluate")
@click.option("--version", "version_id", type=int,
              help="Model version to evaluate (default: the champion).")
@click.option("--holdout", type=click.FloatRange(0.05, 0.5), default=0.2, show_default=True,
              help="Share of labelled pairs, the most recent ones, to evaluate on.")
@click.option("--oracle-mentees", type=click.IntRange(10), default=300, show_default=True,
              help="Active mentees sampled for the oracle comparison (synthetic worlds).")
@click.option("--market", is_flag=True,
              help="Synthetic worlds: instead, let the seeded people use the published lists "
                   "in the market simulator and print the successful mentorships they form "
                   "against the planner's bound.")
@click.option("--runs", type=click.IntRange(1), default=20, show_default=True,
              help="With --market: simulation runs to average over.")
def evaluate_command(version_id, holdout, oracle_mentees, market, runs) -> None:
    """Evaluate a registered model beside the baselines on the most recent labelled pairs.

    Note that a model is only fairly judged on pairs it was not trained on: use the same
    --holdout as its training run (see `matcher models show V`).

    \b
    --market (synthetic worlds): each active mentee goes down the published list,
    examining rank r with probability 1/log2(r+1) and sending at most 3 requests; a mentor
    with a free seat accepts with the pair's true acceptance probability; accepted pairings
    succeed with the true success probability. Prints expected successful mentorships, the
    share of the planner's bound (best one-shot assignment of mentees to free seats),
    matches, seats filled, requests that hit a full mentor, and the most lists of one mentor.
    """
    if market:
        from matcher.db import make_engine
        from matcher.synthetic.market import evaluate_published

        for line in evaluate_published(make_engine(), runs=runs).lines():
            click.echo(line)
        return
    from matcher.db import make_engine
    from matcher.evaluation import evaluate_version
    from matcher.synthetic import oracle

    split, results = evaluate_version(make_engine(), version_id, holdout,
                                      oracle.source(oracle_mentees))
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
        click.echo(f"v{row['id']:<5} {row['status']:<9} {row['target']:<10} "
                   f"{row['algorithm']:<15} "
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
@click.option("--target", type=click.Choice(["success", "acceptance"]), default="success",
              show_default=True, help="Which champion to roll back.")
def models_rollback(reason: str, target: str) -> None:
    """Restore the champion that the current one replaced."""
    from matcher import registry
    from matcher.db import make_engine

    with make_engine().begin() as conn:
        restored = registry.rollback(conn, reason, target=target)
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


@cli.command("retrain")
@click.option("--algorithms", default=None, callback=_algorithm_list,
              help="Comma-separated algorithms for the challenger (default: all that give "
                   "probabilities, which the market objective needs); the best on the main "
                   "metric is the challenger.")
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
@click.option("--position-weights", is_flag=True,
              help="Weight answered feedback by 1 / P(its rank is looked at) in training and "
                   "on the holdout (inverse-propensity weighting). Off by default: answered "
                   "rows were looked at, and unweighted training gave better lists on the "
                   "synthetic worlds (benchmarks/unbiased_benchmark.py).")
@click.option("--dry-run", is_flag=True, help="Decide and report, but promote nothing.")
@click.option("--force", is_flag=True,
              help="Promote the challenger even if it fails the rules or the feedback checks "
                   "(logged as forced).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the report (default: .matcher/reports/retrain-<run>).")
def retrain_command(algorithms, metric, margin, holdout, oracle_mentees, position_weights,
                    dry_run, force, report_dir) -> None:
    """Admin: learn from feedback, train a challenger, promote it only if it is better.

    \b
    Learns from interactions that ended and from recommendations people accepted or
    declined (ignored ones are not labels). A challenger of every algorithm is trained and
    the best on the main metric is judged against the champion on the same fresh holdout
    (pairs neither has trained on) and, once lists have been explored, on the logged
    feedback: the lists each would have published are replayed and their accepted
    recommendations per list estimated off-policy (IPS, SNIPS, doubly robust, with 95%
    intervals). The challenger is promoted only if it improves the main metric by the
    margin, calibration (ECE) and coverage of mentors are not worse beyond tolerance,
    oracle efficiency is not worse (synthetic worlds), its off-policy lower bound is not
    more than 5% below the champion's estimate, and the new feedback looks sane (action
    mix, volume per batch, no mentor flooded). Otherwise the champion stays and the reason
    is printed. The acceptance model is retrained as well once feedback carries mentors'
    answers. Every decision is logged (matcher models decisions); undo a promotion with:
    matcher models rollback.
    """
    from matcher import report
    from matcher.db import make_engine
    from matcher.retraining import RetrainPolicy, report_lines, retrain
    from matcher.runlog import job_run
    from matcher.synthetic import oracle

    settings = get_settings()
    policy = RetrainPolicy(metric=metric or settings.retrain_metric,
                           margin=settings.retrain_margin if margin is None else margin,
                           holdout_share=holdout, position_weights=position_weights)
    engine = make_engine()
    parameters = {"algorithms": algorithms, "metric": policy.metric, "margin": policy.margin,
                  "holdout": holdout, "dry_run": dry_run, "force": force,
                  "position_weights": position_weights}
    with job_run(engine, "retrain", parameters) as job:
        run = retrain(engine, algorithms=algorithms, policy=policy, dry_run=dry_run, force=force,
                      oracle_mentees=oracle_mentees, oracle_source=oracle.source(oracle_mentees),
                      job=job)
        path = None
        if run.evaluations:
            folder = report_dir or settings.reports_dir / f"retrain-{job.id}"
            path = report.write(run, folder, f"Retraining run {job.id}", report_lines(run))
        job.summary = {"outcome": run.outcome, "promoted": run.promoted,
                       "decision": run.decision, "acceptance": run.acceptance_decision,
                       "report": str(path)}
    if run.evaluations:
        with pd_display():
            click.echo(run.table().to_string(float_format=lambda v: f"{v:.4f}"))
    for c in run.guards + run.checks:
        click.echo(f"  {'pass' if c.passed else 'FAIL'}  {c.name}: {c.detail}")
    click.echo(run.decision)
    if run.acceptance_decision:
        click.echo(run.acceptance_decision)
    if path:
        click.echo(f"report: {path}")


def pd_display():
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 30)

"""The nightly loop: `matcher score`, `show`, `feedback import`, `simulate-feedback`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from matcher.cli.group import cli
from matcher.settings import get_settings


@cli.command("score")
@click.option("--k", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Recommendations per mentee.")
@click.option("--max-exposure", type=click.FloatRange(min=0.1), default=None,
              help="Cap each mentor at R x (free capacity) lists, e.g. 3, on plain top-K lists "
                   "(implies --objective relevance); the score given up and how evenly mentors "
                   "are spread are logged. Default: no cap.")
@click.option("--chunk-size", type=click.IntRange(100), default=2000, show_default=True,
              help="Mentees per chunk (memory vs. speed).")
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Chunks scored at once, each on its own database connection (about the "
                   "number of cores).")
@click.option("--objective", type=click.Choice(["market", "relevance"]), default="market",
              show_default=True,
              help="market: choose and order each mentee's K for the most expected successful "
                   "mentorships given mentors' free seats; relevance: "
                   "each mentee's top K by the model's score alone.")
@click.option("--explore", type=click.FloatRange(0, 0.5), default=None,
              help="Share of list slots from rank 4 on filled at random from each mentee's "
                   "next-best candidates, with the probability logged on the row (so that "
                   "retraining can estimate how other lists would fare). Default: "
                   "MATCHER_EXPLORE or 0.1; never on the first night; 0 turns it off.")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Score the chunks (candidates, features, predictions) as tasks on a Dask "
                   "cluster: a scheduler address such as tcp://host:8786, or local:N to start "
                   "N local worker processes for this run. Workers read the run's snapshot "
                   "from the same PostgreSQL server; the market step and the publish stay "
                   "here. Needs: pip install 'matcher[dask]'.")
@click.option("--allow-shrink", is_flag=True,
              help="Publish even if the new batch lists fewer than half the mentees of the "
                   "published one (refused otherwise, as a guard against emptied or "
                   "truncated data).")
def score_command(k, max_exposure, chunk_size, workers, objective, explore, dask_address,
                  allow_shrink) -> None:
    """Nightly job: publish K recommended mentors for every active mentee.

    \b
    By default the lists are market-aware: mentors have few free seats, so each mentee's
    K are chosen for the expected successful mentorships they add given everybody else's
    lists: a request to a mentor whose seats cannot take all its accepted requests counts
    only if this mentee beats the mentor's other requesters. Every mentee still gets K.
    Each row carries P(accept) and P(success); batch_mentors records expected requests per
    mentor against free seats. From the second night on, a small share of slots below
    rank 3 (--explore) shows one of a few next-best candidates at random, and each row
    records the probability it had of being shown at its rank.

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

    settings = get_settings()
    options = ScoreOptions(k=k, max_exposure=max_exposure, chunk_size=chunk_size, workers=workers,
                           keep_batches=settings.keep_batches, allow_shrink=allow_shrink,
                           objective=objective,
                           explore=settings.explore if explore is None else explore,
                           dask=dask_address)
    result = score(make_engine(), options, progress=sys.stderr.isatty())
    c = result.counts
    click.echo(f"published batch {result.batch_id} (model v{result.model_version_id}): "
               f"{c['recommendations']:,} recommendations for {c['mentees']:,} mentees, "
               f"{c['pairs_scored']:,} pairs scored; {c['mentees_short_of_k']:,} mentees got "
               f"fewer than {k}")
    click.echo("exposure: " + ", ".join(f"{key} {c[key]}" for key in (
        "mentors_recommended_share", "mentor_appearances_gini", "max_lists_per_mentor",
        "mentors_oversubscribed", "mean_score_vs_plain_top_k", "estimated_successes",
        "estimated_successes_relevance", "explored") if key in c))
    click.echo("seconds: " + ", ".join(f"{s} {v:.1f}" for s, v in result.timings.items()))


@cli.command("show")
@click.option("--mentees", "n", type=click.IntRange(1), default=3, show_default=True,
              help="How many mentees to show.")
@click.option("--mentee", "mentee_ids", multiple=True,
              help="Show this mentee (the programme's id); repeatable.")
def show_command(n, mentee_ids) -> None:
    """Print published recommendations with the reasons behind each (current batch).

    \b
    Each line: rank, mentor, the mentor's fields, the chances that the mentor accepts a
    request and that the mentorship succeeds, then what helped the pick and, after
    "despite", what held it back. "has free seats" marks a mentor picked because it still
    has room, where the mentee's best matches by success alone are likely to be full.
    """
    from matcher.db import make_engine
    from matcher.queries import published_lists

    lists = published_lists(make_engine(), list(mentee_ids), n)
    if not lists:
        raise click.ClickException("nothing is published yet (run: matcher score)")
    for mentee, rows in lists.items():
        click.echo(f"mentee {mentee}:" + ("" if rows else " no recommendations"))
        for r in rows:
            chances = ("" if r["p_accept"] is None else
                       f"  accepts {r['p_accept']:.0%}, succeeds {r['p_success']:.0%}")
            click.echo(f"  {r['rank']:>2}. {r['mentor_id']:<12} {', '.join(r['domains'])}"
                       f"{chances}\n      because {r['reasons'] or 'overall fit'}")


@cli.group("feedback")
def feedback_group() -> None:
    """Feedback on published recommendations (accepted / declined / ignored)."""


@feedback_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def feedback_import(file: Path) -> None:
    """Import FILE: feedback on recommendations matcher published, all or nothing.

    \b
    Columns (docs/import.md): mentee_id, mentor_id, rank, shown_at, action
    (accepted|declined|ignored), acted_at, and optionally mentor_response (accepted|declined:
    the mentor's answer to the request an accepted recommendation became; the acceptance
    model learns from it). Every row must answer a published recommendation:
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
    Each accepted one is a request the mentor answers (mentor_response): requests arrive in
    random order, a mentor with a free seat accepts with the pair's true acceptance
    probability, a full one declines, a mentee with a mentor withdraws the rest.
    Writes one feedback row per recommendation, tied to the batch. Lets the whole loop
    (score -> feedback -> retrain) run without real users.
    """
    from matcher.db import make_engine
    from matcher.synthetic.simulated_feedback import simulate

    result = simulate(make_engine(), seed_value)
    click.echo(f"batch {result.batch_id}: {result.rows:,} feedback rows "
               + ", ".join(f"{k} {v:,}" for k, v in result.actions.items()))

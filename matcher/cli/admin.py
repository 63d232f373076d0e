"""Programme admin: `matcher overrides` (block, pause, pin, capacity) and `matcher report`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from matcher.cli.group import cli
from matcher.errors import MatcherError

KINDS = ("block", "pause", "pin", "capacity")


def _deadline(ctx, param, value: str | None):
    """``--until``: a date (00:00 UTC that day) or an ISO 8601 timestamp with offset."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is neither a date (2026-12-24) nor an ISO 8601 "
                                 "timestamp") from None
    if moment.tzinfo is None and len(value) > 10:
        raise click.BadParameter(f"'{value}' has no UTC offset (e.g. 2026-12-24T18:00+01:00)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@cli.group("overrides")
def overrides_group() -> None:
    """What the programme decides by hand: block a pair, pause a mentor, pin a mentor for a
    mentee, lower a mentor's capacity. Every change is kept with who, when and why.

    \b
    The nightly `matcher score` honours the overrides in force: a blocked pair and a paused
    mentor never appear, a pinned mentor is rank 1 of the mentee's list unless ineligible
    (then the run log says why), a lowered capacity lowers the mentor's free seats.
    """


@overrides_group.command("add")
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--mentor", "mentor_id", required=True, help="The programme's mentor id.")
@click.option("--mentee", "mentee_id", default=None,
              help="The programme's mentee id (block and pin only).")
@click.option("--until", callback=_deadline, default=None,
              help="In force until this date or time (required for pause; optional for the "
                   "others, which otherwise last until removed), e.g. 2026-12-24.")
@click.option("--capacity", type=click.IntRange(0), default=None,
              help="The mentor's capacity while the override is in force (capacity only).")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", default=None,
              help="Who decided (default: MATCHER_ADMIN or your user name).")
def overrides_add(kind, mentor_id, mentee_id, until, capacity, reason, by) -> None:
    """Add an override of KIND: block, pause, pin or capacity.

    \b
    Examples:
      matcher overrides add block --mentor M-7 --mentee E-42 --reason "conflict of interest"
      matcher overrides add pause --mentor M-7 --until 2027-01-06 --reason "holiday"
      matcher overrides add pin --mentor M-3 --mentee E-42 --reason "matched at the kickoff"
      matcher overrides add capacity --mentor M-9 --capacity 1 --until 2027-03-31 \\
          --reason "fewer hours this cycle"
    """
    from matcher import overrides
    from matcher.db import make_engine

    override = overrides.Override(kind, mentor_id, mentee_id, until, capacity, reason)
    new = overrides.add(make_engine(), override, by or overrides.who())
    click.echo(f"override {new} added: {kind} of mentor {mentor_id}"
               + (f" for mentee {mentee_id}" if mentee_id else "")
               + (f" until {until:%Y-%m-%d %H:%M} UTC" if until else ""))


@overrides_group.command("list")
@click.option("--all", "everything", is_flag=True,
              help="Every override ever added, with removed and expired ones (the audit "
                   "trail); default: those in force now.")
def overrides_list(everything) -> None:
    """The overrides in force (or all of them), newest first: kind, people, until, who added
    it when and why, and who removed it."""
    from matcher import overrides
    from matcher.db import make_engine

    rows = overrides.listing(make_engine(), everything)
    if not rows:
        click.echo("no overrides" + ("" if everything else " in force"))
    for r in rows:
        pair = f"mentor {r['mentor_id']}" + (f" / mentee {r['mentee_id']}" if r["mentee_id"]
                                            else "")
        extra = (f" capacity {r['capacity']}" if r["capacity"] is not None else "") + (
            f" until {r['until']:%Y-%m-%d %H:%M}" if r["until"] else "")
        state = "in force" if r["in_force"] else (
            f"removed {r['removed_at']:%Y-%m-%d %H:%M} by {r['removed_by']}: "
            f"{r['removed_reason']}" if r["removed_at"] else "expired")
        click.echo(f"{r['id']:>5}  {r['kind']:<8} {pair}{extra}  [{state}]  added "
                   f"{r['created_at']:%Y-%m-%d %H:%M} by {r['created_by']}: {r['reason']}")


@overrides_group.command("remove")
@click.argument("override_id", type=int)
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
@click.option("--by", default=None,
              help="Who decided (default: MATCHER_ADMIN or your user name).")
def overrides_remove(override_id, reason, by) -> None:
    """Stop override OVERRIDE_ID (its row is kept, with who removed it, when and why)."""
    from matcher import overrides
    from matcher.db import make_engine

    overrides.remove(make_engine(), override_id, reason, by or overrides.who())
    click.echo(f"override {override_id} removed")


@overrides_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--by", default=None,
              help="Who decided (default: MATCHER_ADMIN or your user name).")
def overrides_import(file, by) -> None:
    """Add the overrides in FILE, all or nothing.

    \b
    CSV columns (docs/import.md): kind (block|pause|pin|capacity), mentor_id, mentee_id
    (block and pin), until (a date or ISO timestamp; required for pause), capacity
    (capacity only), reason. Every problem is reported as file:line: column 'x': reason,
    and nothing is added unless every row is right.
    """
    from matcher import overrides
    from matcher.db import make_engine

    added = overrides.import_file(make_engine(), file, by or overrides.who())
    click.echo(f"imported {file.name}: {added} override(s) added")


def _market_section(engine, data) -> str:
    """Synthetic worlds, published batch: the lists in the market simulator (HTML)."""
    from matcher.synthetic.market import evaluate_published
    from matcher.synthetic.truth import TruthModel

    published = data.batch["status"] == "published" and data.batch["published_at"]
    try:
        TruthModel.from_database(engine)
    except MatcherError:
        return ""  # a programme's own data: no truth to simulate with
    if not published:
        return ""
    lines = evaluate_published(engine, runs=10).lines()
    return ("<h2>In the market (synthetic truth)</h2><p>The seeded people use the published "
            "lists: rank r examined with probability 1/log2(r+1), at most three requests, a "
            "mentor with a free seat accepts with the true probability.</p>"
            + "".join(f"<p>{line}</p>" for line in lines))


@cli.group("report")
def report_group() -> None:
    """Reports an admin reads: the health of a published batch (HTML)."""


@report_group.command("batch")
@click.argument("batch_id", type=int, required=False)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the page (default: .matcher/reports/batch-<ID>.html).")
def report_batch(batch_id, out) -> None:
    """Write one self-contained HTML page on batch BATCH_ID (default: the published one).

    \b
    Shows: recommendations per mentor against free seats and expected requests; coverage
    (mentees with fewer than K); the distribution of P(success) and P(accept) against the
    previous batch; acceptance by rank from feedback; the drift of each feature between
    the champion's training time and this batch's candidates (population stability
    index); and warnings where drift (PSI > 0.25) or coverage (over 5% of mentees short of
    K) crosses its threshold, or a pinned mentor could not be recommended.
    """
    from matcher import batch_report
    from matcher.db import make_engine
    from matcher.settings import get_settings

    engine = make_engine()
    data = batch_report.gather(engine, batch_id)
    path = out or get_settings().reports_dir / f"batch-{data.batch['id']}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(batch_report.render(data, _market_section(engine, data)), encoding="utf-8")
    for line in batch_report.warnings(data):
        click.echo(f"warning: {line}")
    click.echo(f"report: {path}")

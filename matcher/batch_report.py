"""``matcher report batch [ID]``: one batch's health on one self-contained HTML page.

What an admin checks every week: who got lists and who fell short of K, how the lists
spread over mentors against their free seats, how the scores compare with the batch before,
how people answered by rank, and which features drifted from what the champion was trained
on (PSI, :mod:`matcher.drift`). Warnings lead the page when drift or coverage crosses its
threshold (the nightly run logs the same lines).
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from matcher import drift, health, pages  # noqa: E402
from matcher.candidates import active_mentee_ids  # noqa: E402
from matcher.db import sql  # noqa: E402
from matcher.errors import MatcherError  # noqa: E402


@dataclass
class BatchData:
    batch: dict
    mentors: pd.DataFrame
    rows: pd.DataFrame
    previous: pd.DataFrame | None
    answered: pd.DataFrame
    active_mentees: int


def gather(engine: Engine, batch_id: int | None) -> BatchData:
    """Everything the page shows, read in one transaction."""
    with engine.connect() as conn:
        batch = conn.execute(sql("batch_report/batch.sql"),
                             {"batch_id": batch_id}).mappings().one_or_none()
        if batch is None:
            raise MatcherError(f"no batch {batch_id}" if batch_id is not None else
                               "nothing is published yet (run: matcher score)")
        rows = pd.read_sql(sql("batch_report/rows.sql"), conn, params={"batch_id": batch["id"]})
        previous = (pd.read_sql(sql("batch_report/rows.sql"), conn,
                                params={"batch_id": batch["previous_id"]})
                    if batch["previous_id"] else None)
        return BatchData(
            dict(batch),
            pd.read_sql(sql("batch_report/mentors.sql"), conn, params={"batch_id": batch["id"]}),
            rows, previous if previous is not None and len(previous) else None,
            pd.read_sql(sql("batch_report/answered_by_rank.sql"), conn),
            len(active_mentee_ids(conn)))


def warnings(data: BatchData) -> list[str]:
    """The lines the page leads with: those the nightly run logged (:mod:`matcher.health`)."""
    return health.warnings(data.batch["counts"] or {},
                           int((data.batch["parameters"] or {}).get("k", 10)))


def _per_mentor_plot(mentors: pd.DataFrame) -> str:
    fig, (lists, requests) = plt.subplots(1, 2, figsize=(12, 4.5))
    jitter = np.random.default_rng(0).uniform(-0.2, 0.2, len(mentors))
    lists.scatter(mentors["free_seats"] + jitter, mentors["lists"], s=8, alpha=0.5)
    lists.set(title="Lists naming each mentor", xlabel="free seats", ylabel="lists",
              yscale="symlog")
    requests.scatter(mentors["free_seats"] + jitter, mentors["expected_requests"], s=8,
                     alpha=0.5)
    top = max(float(mentors["free_seats"].max() or 1), 1.0)
    requests.plot([0, top], [0, top], color="red", linewidth=0.8, label="requests = seats")
    requests.set(title="Expected requests against free seats", xlabel="free seats",
                 ylabel="expected requests", yscale="symlog")
    requests.legend(fontsize=8)
    return pages.png(fig)


def _coverage_plot(lengths: pd.Series, k: int) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    counts = lengths.value_counts().reindex(range(0, k + 1), fill_value=0)
    ax.bar(counts.index, counts.to_numpy())
    ax.set(title="Mentees by list length", xlabel="recommendations", ylabel="mentees")
    return pages.png(fig)


def _scores_plot(rows: pd.DataFrame, previous: pd.DataFrame | None) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, column in zip(axes, ("p_success", "p_accept"), strict=True):
        bins = np.linspace(0, 1, 41)
        ax.hist(rows[column].dropna(), bins=bins, alpha=0.6, label="this batch", density=True)
        if previous is not None:
            ax.hist(previous[column].dropna(), bins=bins, alpha=0.5, label="previous batch",
                    density=True)
        ax.set(title=f"{column} of the published rows", xlabel=column, ylabel="density")
        ax.legend(fontsize=8)
    return pages.png(fig)


def _answered_plot(answered: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(answered["rank"], answered["answered_share"], marker="o", label="answered")
    ax.plot(answered["rank"], answered["accepted_share"], marker="o", label="accepted")
    ax.set(title="Feedback by rank shown", xlabel="rank", ylabel="share of shown rows")
    ax.legend(fontsize=8)
    return pages.png(fig)


def _drift_plot(psi: dict[str, float]) -> str:
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(psi) + 1.5))
    names = sorted(psi, key=psi.get)
    ax.barh(names, [psi[n] for n in names],
            color=["#c0392b" if psi[n] > drift.WARN_PSI else "#4c72b0" for n in names])
    ax.axvline(drift.WARN_PSI, color="red", linewidth=0.8)
    ax.set(title="Drift since the champion was trained (PSI)", xlabel="PSI")
    return pages.png(fig)


def render(data: BatchData, extra: str = "") -> str:
    """The page's HTML; ``extra`` HTML goes after the summary (the CLI adds the market
    simulation on synthetic worlds)."""
    batch, counts = data.batch, data.batch["counts"] or {}
    parameters = batch["parameters"] or {}
    k = int(parameters.get("k", 10))
    lengths = data.rows.groupby("mentee_id").size()
    lengths = pd.concat([lengths, pd.Series(0, index=range(max(
        data.active_mentees - len(lengths), 0)))])  # active mentees without any list
    summary = pd.DataFrame([
        ("status", batch["status"]),
        ("model", f"v{batch['model_version_id']} ({batch['algorithm']})"),
        ("objective", parameters.get("objective", "")),
        ("published", f"{batch['published_at']:%Y-%m-%d %H:%M} UTC"
         if batch["published_at"] else "not published"),
        ("mentees listed", f"{data.rows['mentee_id'].nunique():,} of "
                           f"{counts.get('mentees', data.active_mentees):,}"),
        ("recommendations", f"{len(data.rows):,}"),
        ("mentees with fewer than K", f"{counts.get('mentees_short_of_k', 0):,}"),
        ("explored slots", f"{int(data.rows['explored'].sum()):,}"),
        ("pinned by overrides", f"{counts.get('pinned', 0):,}"),
        ("estimated successful mentorships", counts.get("estimated_successes", "")),
        ("most lists for one mentor", f"{counts.get('max_lists_per_mentor', 0):,}"),
        ("mentors expected to get more requests than seats",
         f"{counts.get('mentors_oversubscribed', 0):,}"),
    ], columns=["", "value"])
    said = warnings(data)
    blocks = ["".join(f'<p class="warning">{pages.escape(w)}</p>' for w in said),
              "<h2>Summary</h2>", pages.table(summary), extra]
    blocks += ["<h2>Recommendations per mentor against free seats</h2>",
               _per_mentor_plot(data.mentors) if len(data.mentors) else "<p>no mentors</p>",
               pages.table(data.mentors.head(15))]
    blocks += ["<h2>Coverage</h2>", f"<p>{int((lengths < k).sum()):,} of {len(lengths):,} "
               f"active mentees have fewer than {k} recommendations.</p>",
               _coverage_plot(lengths, k)]
    blocks += ["<h2>Scores against the previous batch</h2>",
               _scores_plot(data.rows, data.previous),
               pages.table(pd.DataFrame({
                   "batch": ["this", "previous"][:1 + (data.previous is not None)],
                   "mean P(success)": [data.rows["p_success"].mean(), *(
                       [data.previous["p_success"].mean()] if data.previous is not None
                       else [])],
                   "mean P(accept)": [data.rows["p_accept"].mean(), *(
                       [data.previous["p_accept"].mean()] if data.previous is not None
                       else [])]}))]
    blocks += ["<h2>Acceptance by rank (feedback)</h2>",
               _answered_plot(data.answered) if len(data.answered) else
               "<p>no feedback yet</p>", pages.table(data.answered)]
    psi = counts.get("drift") or {}
    blocks += ["<h2>Feature drift (PSI)</h2>", _drift_plot(psi) if psi else
               "<p>the champion has no training profile (registered before revision 0008): "
               "retrain to get drift figures</p>",
               pages.table(pd.DataFrame(sorted(psi.items(), key=lambda item: -item[1]),
                                       columns=["feature", "PSI"])) if psi else ""]
    return pages.page(f"Batch {batch['id']}", "".join(blocks))

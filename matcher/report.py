"""A training run's report: ``report.md`` with PNG plots, and the same as one self-contained
``report.html`` (plots embedded), one folder per run."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from matcher import metrics, pages  # noqa: E402
from matcher.training import TrainingRun  # noqa: E402

KS = tuple(range(1, 21))


def write(run: TrainingRun, folder: Path, title: str, extra: list[str] = ()) -> Path:
    """Write the report into ``folder`` (created) and return the path of report.md (beside
    it report.html, the same page self-contained); ``extra`` Markdown lines go right after
    the summary."""
    folder.mkdir(parents=True, exist_ok=True)
    y = run.split.test["label"].to_numpy()
    groups = run.split.test["mentee_id"].to_numpy()
    scored = [e for e in run.evaluations if e.test_scores is not None]

    fig, (roc, pr) = plt.subplots(1, 2, figsize=(12, 5))
    for e in scored:
        fpr, tpr, _ = roc_curve(y, e.test_scores)
        roc.plot(fpr, tpr, label=f"{e.name} ({e.metrics['roc_auc']:.3f})",
                 linestyle="-" if e.kind != "baseline" else ":")
        precision, recall, _ = precision_recall_curve(y, e.test_scores)
        pr.plot(recall, precision, label=f"{e.name} ({e.metrics['pr_auc']:.3f})",
                linestyle="-" if e.kind != "baseline" else ":")
    roc.plot([0, 1], [0, 1], color="grey", linewidth=0.5)
    roc.set(title="ROC on the holdout", xlabel="false positive rate", ylabel="true positive rate")
    pr.set(title="Precision-recall on the holdout", xlabel="recall", ylabel="precision")
    roc.legend(fontsize=8)
    pr.legend(fontsize=8)
    _save(fig, folder / "roc_pr.png")

    fig, ax = plt.subplots(figsize=(6, 5))
    for e in scored:
        if e.kind != "baseline" and e.probabilistic:
            observed, predicted = calibration_curve(y, np.clip(e.test_scores, 0, 1), n_bins=10,
                                                    strategy="quantile")
            ax.plot(predicted, observed, marker="o", label=e.name)
    ax.plot([0, 1], [0, 1], color="grey", linewidth=0.5)
    ax.set(title="Calibration on the holdout", xlabel="mean predicted probability",
           ylabel="observed share of positives")
    ax.legend(fontsize=8)
    _save(fig, folder / "calibration.png")

    fig, ax = plt.subplots(figsize=(7, 5))
    for e in scored:
        values = metrics.ranking(groups, y, e.test_scores, ks=KS)
        ax.plot(KS, [values.get(f"ndcg@{k}") for k in KS], label=e.name,
                linestyle="-" if e.kind != "baseline" else ":")
    ax.set(title="NDCG@K per mentee on the holdout", xlabel="K", ylabel="mean NDCG@K")
    ax.legend(fontsize=8)
    _save(fig, folder / "ndcg_at_k.png")

    names = list(run.importances)
    if names:
        fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 6), sharey=True)
        for ax, name in zip(np.atleast_1d(axes), names, strict=True):
            importances = run.importances[name]
            ax.barh(list(importances), list(importances.values()))
            ax.set(title=name, xlabel="share of importance")
        np.atleast_1d(axes)[0].invert_yaxis()
        _save(fig, folder / "importances.png")

    oracle_lines = []
    if run.oracle is not None:
        fig, ax = plt.subplots(figsize=(7, 4))
        ordered = sorted(scored, key=lambda e: e.metrics["oracle_efficiency"])
        ax.barh([e.name for e in ordered], [e.metrics["oracle_efficiency"] for e in ordered])
        ax.axvline(0.85, color="red", linewidth=0.8, label="target 0.85")
        ax.set(title="Oracle efficiency (true p of top-10 / best possible)", xlim=(0, 1))
        ax.legend(fontsize=8)
        _save(fig, folder / "oracle_efficiency.png")
        mentees = run.oracle.frame["mentee_id"].nunique()
        oracle_lines = [
            "## Against the oracle", "",
            f"{mentees} active mentees sampled; every eligible mentor "
            f"({len(run.oracle.frame):,} pairs) ranked by each model and by the seeder's true "
            "success probability. Oracle efficiency = sum of true p of the model's top 10 / "
            "sum of true p of the best possible top 10.", "",
            "![oracle efficiency](oracle_efficiency.png)", ""]

    table = run.table()
    lines = [
        f"# {title}", "",
        f"- Decision: **{run.decision}**",
        f"- Main metric: `{run.main_metric}`",
        *(f"- Note: {note}" for note in run.notes),
        f"- Trained on {len(run.split.train):,} labelled pairs dated before "
        f"{run.split.cutoff:%Y-%m-%d %H:%M} UTC; tested on the {len(run.split.test):,} from then "
        f"on ({int(run.split.test['label'].sum()):,} positives).",
        f"- Registered versions: {', '.join(f'{k} = v{v}' for k, v in run.registered.items())}",
        "", *extra, "## Comparison", "", _markdown(table), "",
        "Ranking metrics are per mentee (held-out pairs of one mentee form a group), averaged "
        "over mentees with at least one positive. Baselines: random, popularity (mentor's "
        "completed pairings so far), content (shared domains, then skill coverage).", "",
        *oracle_lines,
        "## Curves", "", "![ROC and PR](roc_pr.png)", "", "![NDCG@K](ndcg_at_k.png)", "",
        "![calibration](calibration.png)", "",
        "## Feature importances", "", "![importances](importances.png)", "",
    ]
    path = folder / "report.md"
    path.write_text("\n".join(lines))
    (folder / "report.html").write_text(pages.page(title, pages.from_markdown(
        "\n".join(lines[1:]), folder)), encoding="utf-8")
    return path


def _markdown(frame) -> str:
    header = "| " + " | ".join(["", *frame.columns]) + " |"
    rule = "|" + "---|" * (len(frame.columns) + 1)
    rows = ["| " + " | ".join([str(name), *(_cell(v) for v in row)]) + " |"
            for name, row in zip(frame.index, frame.itertuples(index=False), strict=True)]
    return "\n".join([header, rule, *rows])


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if np.isnan(value) else f"{value:.4f}"
    return "" if value is None else str(value)


def _save(fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)

"""``matcher train``: train the chosen algorithms on a time split, compare them with the
baselines and the current champion on the same holdout, register every model, and promote
the best one when it beats the champion.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine
from tqdm import tqdm

from matcher import drift, evaluation, registry
from matcher.algorithms import ALGORITHMS, PARAMETERS
from matcher.candidates import active_mentee_ids
from matcher.errors import ChampionChanged
from matcher.evaluation import Evaluation
from matcher.features import FEATURES, FeatureSession

log = logging.getLogger(__name__)


@dataclass
class TrainingRun:
    """What one ``matcher train`` did, for printing and for the report."""

    split: evaluation.Split
    main_metric: str
    evaluations: list[Evaluation] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    importances: dict[str, dict[str, float]] = field(default_factory=dict)
    registered: dict[str, int] = field(default_factory=dict)
    champion_before: int | None = None
    promoted: int | None = None
    decision: str = ""
    #: What the models predict: success or acceptance.
    target: str = "success"
    #: Said in the report's header, e.g. that the main metric fell back to another.
    notes: list[str] = field(default_factory=list)
    oracle: evaluation.OracleSample | None = None
    report_dir: Path | None = None

    def table(self) -> pd.DataFrame:
        columns = ["oracle_efficiency", "oracle_ndcg@10", "ndcg@10", "ndcg@5", "map@10",
                   "recall@10", "mrr", "hit_rate@5", "roc_auc", "pr_auc", "log_loss", "brier",
                   "ece", "coverage@10"]
        rows = {e.name: e.metrics for e in self.evaluations}
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.insert(0, "kind", [e.kind for e in self.evaluations])
        frame["train_s"] = [self.seconds.get(e.name) for e in self.evaluations]
        keep = ["kind", *[c for c in columns if c in frame], "train_s"]
        if self.main_metric not in frame:
            return frame[keep]
        return frame[keep].sort_values(self.main_metric, ascending=False)


def train(engine: Engine, algorithms: list[str], *, holdout_share: float = 0.2, cv: int = 0,
          oracle_source: evaluation.OracleSource | None = None, promote: bool = True,
          as_of: datetime | None = None, job_run_id: int | None = None,
          progress: bool = False, target: str = "success",
          promoted_by: str = "matcher train") -> TrainingRun:
    """Train ``algorithms`` to predict ``target`` (``success``, or ``acceptance``: the mentor
    accepts a request), compare, register, and promote the best over the target's champion
    (the promotion log names ``promoted_by``)."""
    as_of = as_of or datetime.now(UTC)
    with engine.begin() as conn:
        session = FeatureSession(conn)
        pairs = evaluation.TARGETS[target](session)
        oracle = (oracle_source(session, conn, as_of)
                  if oracle_source and target == "success" else None)
        # what the nightly run scores, for drift checks against tonight's candidates
        candidates = drift.profile(evaluation.matrix(evaluation.candidate_sample(
            session, conn, as_of)), list(FEATURES)) if active_mentee_ids(conn) else {}
    if target == "acceptance":  # the market step needs probabilities
        skipped = [a for a in algorithms if not ALGORITHMS[a].probabilistic]
        algorithms = [a for a in algorithms if ALGORITHMS[a].probabilistic]
        if skipped:
            log.info("acceptance models must give probabilities; skipping %s", skipped)
    split = evaluation.time_split(pairs, holdout_share)
    log.info("labelled pairs: %d for training (before %s), %d held out", len(split.train),
             split.cutoff, len(split.test))
    run = TrainingRun(split, evaluation.main_metric(oracle, target), oracle=oracle,
                      target=target)

    run.evaluations += evaluation.baselines(split.test, oracle)
    models = {}
    for name in tqdm(algorithms, desc="training", unit="model", disable=not progress):
        model = ALGORITHMS[name](list(FEATURES))
        run.seconds[name] = evaluation.fit(model, split.train)
        result = evaluation.judge(name, "model", model, split.test, oracle)
        if cv > 1:
            result.metrics |= evaluation.cross_validate(ALGORITHMS[name], PARAMETERS[name],
                                                        split.train, cv)
        run.evaluations.append(result)
        run.importances[name] = model.importances()
        models[name] = model
        log.info("%s: %s = %.4f, trained in %.1f s", name, run.main_metric,
                 result.metrics.get(run.main_metric, float("nan")), run.seconds[name])

    with engine.begin() as conn:
        run.champion_before = registry.champion_id(conn, target)
        if run.champion_before is not None:
            champion = registry.load(conn, run.champion_before)
            run.evaluations.append(evaluation.judge(
                f"champion v{run.champion_before} ({champion.algorithm})", "champion",
                champion.model, split.test, oracle))
        window = {"trained_before": split.cutoff.isoformat(), "as_of": as_of.isoformat(),
                  "first_pair": split.train["as_of"].min().isoformat()}
        counts = {"train": len(split.train), "test": len(split.test),
                  "train_positives": int(split.train["label"].sum())}
        for result in run.evaluations:
            if result.kind == "model":
                run.registered[result.name] = registry.register(
                    conn, models[result.name], training_window=window, row_counts=counts,
                    metrics=result.metrics | {"train_seconds": run.seconds[result.name]},
                    job_run_id=job_run_id, target=target, feature_profile=candidates)
        _decide(conn, run, promote, promoted_by)
    return run


def _decide(conn, run: TrainingRun, promote: bool, promoted_by: str) -> None:
    """Promote the best new model if it beats the champion on the main metric (or, where
    that is undefined on this holdout, on the first defined fallback metric)."""
    candidates = [e for e in run.evaluations if e.kind == "model"]
    if not candidates:
        run.decision = "no model trained"
        return
    probabilistic = [e for e in candidates if e.probabilistic]
    if probabilistic and len(probabilistic) < len(candidates):
        # the nightly market objective needs P(success): a ranker is compared, not promoted
        run.notes.append("Only models that give probabilities may be promoted when others "
                         "were trained too (the market objective of `matcher score` needs "
                         "P(success)); " + ", ".join(e.name for e in candidates
                                                    if not e.probabilistic)
                         + " shown for comparison.")
        candidates = probabilistic
    champion = next((e for e in run.evaluations if e.kind == "champion"), None)
    key = evaluation.decisive_metric(run.main_metric, [*candidates, *filter(None, [champion])])
    if key is None:
        tried = ", ".join(dict.fromkeys((run.main_metric, *evaluation.FALLBACK_METRICS)))
        run.notes.append(f"No metric ({tried}) is defined for every model on this holdout.")
        run.decision = (f"nothing promoted: no metric is defined for every model on the "
                        f"holdout of {len(run.split.test):,} labelled pairs "
                        f"({int(run.split.test['label'].sum()):,} positive); import more "
                        "history or feedback, or promote by hand: matcher models promote V")
        return
    if key != run.main_metric:
        run.notes.append(f"{run.main_metric} is undefined on this holdout (too few mentees "
                         f"with two or more held-out pairs, or one label value); models were "
                         f"compared on {key} instead.")
        log.warning("%s is undefined on this holdout; comparing models on %s",
                    run.main_metric, key)
        run.main_metric = key
    best = max(candidates, key=lambda e: e.metrics[key])
    value = best.metrics[key]
    if champion is not None and champion.metrics.get(key, float("-inf")) >= value:
        run.decision = (f"kept the champion: {champion.name} has {key} "
                        f"{champion.metrics.get(key):.4f} >= {best.name}'s {value:.4f}")
        return
    reason = (f"best new model on {key} ({value:.4f})" if champion is None else
              f"{key} {value:.4f} beats champion's {champion.metrics.get(key):.4f}")
    if not promote:
        run.decision = f"would promote {best.name} ({reason}); not promoted (--no-promote)"
        return
    version = run.registered[best.name]
    try:
        registry.promote(conn, version, f"{promoted_by}: {reason}",
                         expected_champion=run.champion_before)
    except ChampionChanged as exc:
        run.decision = f"not promoted: {exc}"
        return
    run.promoted = version
    run.decision = f"promoted {best.name} as version {version}: {reason}"

"""``matcher retrain``: learn from feedback, train challengers, compare them with the champion
on the same fresh holdout and on the logged lists, and promote only a better one.

1. Labelled pairs as of now (interactions that ended, recommendations accepted or declined),
   features point in time. Ignored rows are not labels: a low rank is ignored more often
   just because fewer people look that far. Rows that were answered were looked at, so
   among them the rank no longer decides the answer; by default they weigh 1 like
   interactions. With ``position_weights`` each is weighted by 1 / P(its rank is looked
   at) (:mod:`matcher.examination`, floored at 0.1) in training and on the holdout alike;
   on the synthetic worlds that gave worse lists (benchmarks/unbiased_benchmark.py).
2. The holdout is the newest pairs: from the later of the ``holdout_share`` quantile of pair
   times and the champion's own training cutoff, so neither model has seen it.
3. A challenger of every algorithm (unless told which) is trained on the rest and the best
   on the main metric is the challenger (a first champion picked on thin data does not fix
   the algorithm for ever). Both are scored on the holdout: ranking and classification
   metrics, coverage and, on synthetic worlds, oracle efficiency.
4. Off-policy (:mod:`matcher.off_policy`): the lists each would have published for the
   batches logged since the holdout began are replayed, and their accepted
   recommendations per list estimated from the feedback (IPS, SNIPS, DR, bootstrap
   intervals).
5. Promote only if the challenger improves the main metric by the margin, calibration (ECE)
   and coverage (of the replayed lists where there are some, else of a sample's top 10) are
   not worse beyond tolerance, oracle efficiency (synthetic worlds) is not worse beyond
   tolerance, the off-policy lower bound does not fall below the champion's estimate by
   more than the margin, and the feedback shown since the last retrain (or since the
   champion was registered, if later) passes its sanity checks (:mod:`matcher.feedback`).
   ``force`` promotes anyway and says so in the log; ``dry_run`` decides without promoting.
   Every run logs a row in ``model_decisions``.
6. The acceptance model (P(mentor accepts)) is retrained too once feedback carries
   mentors' answers, by ``matcher train --target acceptance``'s rules.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from matcher import drift, evaluation, examination, feedback, lease, off_policy, registry
from matcher.algorithms import ALGORITHMS
from matcher.db import sql
from matcher.errors import ChampionChanged, MatcherError
from matcher.evaluation import Evaluation
from matcher.features import FEATURES, FeatureSession
from matcher.feedback import Check
from matcher.runlog import JobRun
from matcher.training import TrainingRun, train

log = logging.getLogger(__name__)

COVERAGE = evaluation.COVERAGE


@dataclass
class RetrainPolicy:
    """When a challenger may replace the champion."""

    metric: str = "ndcg@10"
    margin: float = 0.005
    calibration_tolerance: float = 0.02  # ECE may rise by at most this much
    coverage_tolerance: float = 0.05     # coverage@10 may fall by at most this much
    oracle_tolerance: float = 0.01       # oracle efficiency may fall by at most this much
    holdout_share: float = 0.2
    min_holdout_pairs: int = 100
    propensity_floor: float = 0.1
    #: Weight answered feedback by 1 / P(its rank is looked at) in training and on the
    #: holdout. Off by default: answered rows are already rows that were looked at, and on
    #: the synthetic worlds unweighted training gave the better lists
    #: (benchmarks/unbiased_benchmark.py prints the comparison).
    position_weights: bool = False
    #: The challenger's accepted recommendations per list, estimated off-policy, may fall
    #: below the champion's by at most this share at the 95 % lower bound of the difference
    #: ...
    off_policy_margin: float = 0.05
    #: ... where the logs showed at least this share of the challenger's items; with less,
    #: the estimate rests on the reward model alone and the rule does not decide.
    off_policy_min_support: float = 0.5


@dataclass
class RetrainRun(TrainingRun):
    champion_name: str = ""
    challenger_name: str | None = None
    guards: list[Check] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    propensity: dict[int, float] = field(default_factory=dict)
    off_policy: off_policy.Comparison | None = None
    position_weights: bool = False
    #: What retraining the acceptance model (P(mentor accepts)) decided, if it ran.
    acceptance_decision: str | None = None
    outcome: str = "kept"
    forced: bool = False
    decision_id: int | None = None


def weighted(train: pd.DataFrame, propensity: dict[int, float], floor: float) -> pd.DataFrame:
    """``train`` with a ``weight`` column: 1 / propensity of the rank for feedback rows."""
    ranks = train["rank"].where(train["source"] == "feedback")
    p = ranks.map(lambda r: propensity.get(int(r), floor) if pd.notna(r) else 1.0)
    return train.assign(weight=1.0 / p.astype(float))


def retrain(engine: Engine, *, algorithms: list[str] | None = None,
            policy: RetrainPolicy | None = None, dry_run: bool = False, force: bool = False,
            oracle_mentees: int = 300, oracle_source: evaluation.OracleSource | None = None,
            as_of: datetime | None = None,
            job: JobRun | None = None) -> RetrainRun:
    """One retrain. ``job`` (the CLI's run, holding the retrain lease) is recorded with the
    decision, and its lease is checked in the transaction that promotes."""
    policy = policy or RetrainPolicy()
    job_run_id = job.id if job else None
    if job:
        job.stage = "building labelled pairs"
    as_of = as_of or datetime.now(UTC)
    with engine.begin() as conn:
        champion = registry.load_champion(conn)
        info = registry.version_info(conn, champion.version_id)
        session = FeatureSession(conn)
        pairs = evaluation.labelled_pairs(session)
        oracle = oracle_source(session, conn, as_of) if oracle_source else None
        candidates = evaluation.candidate_sample(session, conn, as_of, oracle_mentees)
        last_decision = registry.last_decision_time(conn)
        since = max(info["created_at"], last_decision or info["created_at"])
        checks = feedback.check(conn, since=since, champion_id=champion.version_id)
        trained_before = info["training_window"].get("trained_before")
        not_before = pd.Timestamp(trained_before) if trained_before else None
        split = evaluation.time_split(pairs, policy.holdout_share, not_before,
                                      need_test=False)
        examine = examination.estimate(conn, split.cutoff.to_pydatetime(),
                                       off_policy.MAX_RANK)
    run = RetrainRun(split, policy.metric, oracle=oracle, checks=checks,
                     position_weights=policy.position_weights,
                     champion_name=f"champion v{champion.version_id} ({champion.algorithm})",
                     champion_before=champion.version_id)
    run.propensity = examination.propensities(examine, range(1, len(examine) + 1),
                                              policy.propensity_floor)
    held_out = (f"{len(split.test)} labelled pairs since {split.cutoff:%Y-%m-%d %H:%M} (the "
                f"champion's training cutoff or later)")
    holdout_problem = None
    if len(split.test) < policy.min_holdout_pairs:
        holdout_problem = (f"only {held_out}, fewer than {policy.min_holdout_pairs}; collect "
                           f"more feedback first")
    elif split.test["label"].nunique() < 2:
        holdout_problem = f"all {held_out} have the same label; nothing to compare on"
    if holdout_problem:
        problems = [holdout_problem, *(f"{c.name}: {c.detail}" for c in checks if not c.passed)]
        run.outcome = "dry_run" if dry_run else "kept"
        run.decision = f"kept the champion v{champion.version_id}: {'; '.join(problems)}"
        with engine.begin() as conn:
            _log_decision(conn, run, champion.version_id, None, job_run_id)
        return run
    train, test = split.train, split.test
    if policy.position_weights:
        # the holdout carries the same weights as training: metrics, ECE and the rules
        # judge what was learned for
        train = weighted(split.train, run.propensity, policy.propensity_floor)
        test = weighted(split.test, run.propensity, policy.propensity_floor)

    def judged(name: str, kind: str, model) -> Evaluation:
        return evaluation.judge(name, kind, model, test, oracle, candidates)

    if job:
        job.stage = "training the challenger"
    models = {}
    # by default only models that give P(success), which the market objective needs
    for name in algorithms or [a for a, cls in ALGORITHMS.items() if cls.probabilistic]:
        model = ALGORITHMS[name](list(FEATURES))
        run.seconds[f"challenger {name}"] = evaluation.fit(model, train)
        run.evaluations.append(judged(f"challenger {name}", "model", model))
        run.importances[name] = model.importances()
        models[f"challenger {name}"] = model
    champion_result = judged(run.champion_name, "champion", champion.model)
    run.evaluations.append(champion_result)
    best = max((e for e in run.evaluations if e.kind == "model"),
               key=lambda e: e.metrics.get(policy.metric, float("-inf")))
    if policy.metric not in best.metrics or policy.metric not in champion_result.metrics:
        known = sorted(set(best.metrics) & set(champion_result.metrics))
        raise MatcherError(f"main metric {policy.metric!r} is not computed for both models "
                           f"here; choose one of: {', '.join(known)}")
    run.challenger_name = best.name
    if job:
        job.check()
        job.stage = "estimating both models' lists off-policy"
    with engine.begin() as conn:
        acceptance = (registry.load_champion(conn, "acceptance")
                      if registry.champion_id(conn, "acceptance") is not None else None)
        run.off_policy = off_policy.evaluate_models(
            conn, {"champion": champion.model, "challenger": models[best.name]}, acceptance,
            # only lists neither model trained on: an estimate from the feedback a model
            # learned from would reward it for having seen the answers
            max(since, split.cutoff.to_pydatetime()),
            examination.estimate(conn, as_of, off_policy.MAX_RANK))
    coverage = None if run.off_policy is None else (
        run.off_policy.coverage("challenger"), run.off_policy.coverage("champion"))
    run.guards = [*guards(best, champion_result, policy, coverage),
                  off_policy_guard(run.off_policy, policy.off_policy_margin,
                                   policy.off_policy_min_support)]
    failed = [c for c in run.guards + run.checks if not c.passed]

    window = {"trained_before": split.cutoff.isoformat(), "as_of": as_of.isoformat(),
              "first_pair": split.train["as_of"].min().isoformat()}
    counts = {"train": len(split.train), "test": len(split.test),
              "train_positives": int(split.train["label"].sum()),
              "train_feedback": int((split.train["source"] == "feedback").sum())}
    if job:
        job.check()
        job.stage = "registering and deciding"
    with engine.begin() as conn:  # register, promote and log the decision: all or nothing
        if job:
            lease.verify(conn, "retrain", job.token)
        version = registry.register(
            conn, models[best.name], training_window=window, row_counts=counts,
            metrics=best.metrics, job_run_id=job_run_id,
            feature_profile=drift.profile(evaluation.matrix(candidates), list(FEATURES)))
        run.registered[best.name] = version
        why_not = "; ".join(f"{c.name}: {c.detail}" for c in failed)
        if dry_run:
            run.outcome = "dry_run"
            gain = _gain(best, champion_result, policy)
            run.decision = (f"dry run: would keep the champion ({why_not})" if failed else
                            f"dry run: would promote v{version} ({gain})")
        elif failed and not force:
            run.decision = f"kept the champion v{champion.version_id}: {why_not}"
        else:
            forced = bool(failed)
            reason = (f"matcher retrain --force despite: {why_not}" if failed else
                      f"matcher retrain: {_gain(best, champion_result, policy)}")
            try:
                with conn.begin_nested():
                    registry.promote(conn, version, reason, forced=forced,
                                     expected_champion=champion.version_id)
            except ChampionChanged as exc:
                run.decision = f"kept: {exc}"
            else:
                run.forced = forced
                run.outcome, run.promoted = "promoted", version
                run.decision = f"promoted v{version} ({best.name}): {reason}"
        _log_decision(conn, run, champion.version_id, version, job_run_id)
    log.info("retrain: %s", run.decision)
    run.acceptance_decision = _retrain_acceptance(engine, as_of, dry_run, job)
    return run


#: Algorithms the acceptance model is retrained with (probabilistic ones).
ACCEPTANCE_ALGORITHMS = ("logistic", "xgboost")


def _retrain_acceptance(engine: Engine, as_of: datetime, dry_run: bool,
                        job: JobRun | None) -> str | None:
    """Retrain P(mentor accepts) once the mentors' answers in feedback can teach it: its
    challengers against its champion on the newest requests (``matcher train --target
    acceptance``'s rules: the best by ROC AUC, promoted only if it beats the champion).
    ``None`` when no feedback row carries a mentor's answer yet."""
    with engine.connect() as conn:
        if not conn.execute(sql("retraining/mentor_answers.sql")).scalar_one():
            return None
    if job:
        job.check()
        job.stage = "retraining the acceptance model"
    try:
        result = train(engine, list(ACCEPTANCE_ALGORITHMS), target="acceptance",
                       promote=not dry_run, as_of=as_of, promoted_by="matcher retrain",
                       job_run_id=job.id if job else None)
    except MatcherError as exc:  # e.g. too few requests with both answers
        return f"acceptance model not retrained: {exc}"
    return f"acceptance model: {result.decision}"


def _gain(challenger: Evaluation, champion: Evaluation, policy: RetrainPolicy) -> str:
    return (f"{policy.metric} {challenger.metrics[policy.metric]:.4f} vs champion's "
            f"{champion.metrics[policy.metric]:.4f}")


def guards(challenger: Evaluation, champion: Evaluation, policy: RetrainPolicy,
           published_coverage: tuple[float, float] | None = None) -> list[Check]:
    """The main metric must improve by the margin; calibration, coverage and (synthetic
    worlds) oracle efficiency must not get worse beyond their tolerances. Coverage is that
    of the lists each model would publish (``published_coverage``: challenger, champion;
    with the market objective the market step spreads mentees over free seats whatever the
    model ranks first) where there is logged feedback to replay, else that of each model's
    plain top 10 for a sample of mentees."""
    new, old = challenger.metrics, champion.metrics
    out = []
    gain = new.get(policy.metric, float("nan")) - old.get(policy.metric, float("nan"))
    out.append(Check(policy.metric, bool(gain >= policy.margin),
                     f"{new.get(policy.metric, float('nan')):.4f} vs "
                     f"{old.get(policy.metric, float('nan')):.4f} "
                     f"(needs +{policy.margin})"))
    if "ece" in new and "ece" in old:
        out.append(Check("calibration (ECE)",
                         new["ece"] <= old["ece"] + policy.calibration_tolerance,
                         f"{new['ece']:.4f} vs {old['ece']:.4f} "
                         f"(may rise by {policy.calibration_tolerance})"))
    if published_coverage is None:
        name, (ours, theirs) = COVERAGE, (new[COVERAGE], old[COVERAGE])
    else:
        name, (ours, theirs) = "coverage of the published lists", published_coverage
    out.append(Check(name, bool(ours >= theirs - policy.coverage_tolerance),
                     f"{ours:.3f} vs {theirs:.3f} (may fall by {policy.coverage_tolerance})"))
    if "oracle_efficiency" in new and "oracle_efficiency" in old:
        out.append(Check("oracle efficiency",
                         new["oracle_efficiency"] >= old["oracle_efficiency"]
                         - policy.oracle_tolerance,
                         f"{new['oracle_efficiency']:.4f} vs {old['oracle_efficiency']:.4f} "
                         f"(may fall by {policy.oracle_tolerance})"))
    return out


def off_policy_guard(comparison: off_policy.Comparison | None, margin: float,
                     min_support: float) -> Check:
    """The challenger's lists must not look worse than the champion's in the logged
    feedback: the 95 % lower bound of the DR difference in accepted recommendations per
    list may not fall below ``-margin`` x the champion's estimate. The rule decides only
    where the logs can tell: with logged feedback, where they showed at least
    ``min_support`` of the challenger's items (lists never explored can only be guessed by
    the reward model, whose error the interval does not hold), and where the interval is
    narrow enough to resolve the margin (half-width at most the margin) unless even its
    upper end is below the allowed loss (clearly worse). Outside that it passes and says
    why."""
    name = "off-policy estimate"
    if comparison is None:
        return Check(name, True, "no feedback with logged propensities yet (lists are "
                                 "explored from the second night on): not estimated")
    challenger, champion = (comparison.estimates[n] for n in ("challenger", "champion"))
    difference, low, high = comparison.differences[("challenger", "champion")]
    allowed = -margin * champion.dr
    detail = (f"accepted per list (DR): challenger {challenger.dr:.3f} "
              f"[{challenger.dr_low:.3f}, {challenger.dr_high:.3f}] vs champion "
              f"{champion.dr:.3f}; difference {difference:+.3f} [{low:+.3f}, {high:+.3f}] "
              f"(its lower bound may not fall below {allowed:+.3f}); {challenger.lists:,} "
              f"lists of batch(es) {', '.join(map(str, comparison.batches))}, support "
              f"{challenger.support:.0%}")
    if challenger.support < min_support:
        return Check(name, True, f"not decided: the logs showed only "
                                 f"{challenger.support:.0%} of the challenger's items (needs "
                                 f"{min_support:.0%}); {detail}")
    if high < allowed:
        return Check(name, False, f"clearly worse: {detail}")
    if low < allowed and (high - low) / 2 > -allowed:
        return Check(name, True, f"not decided: too little logged feedback to resolve a "
                                 f"{margin:.0%} difference; {detail}")
    return Check(name, bool(low >= allowed), detail)


def _log_decision(conn: Connection, run: RetrainRun, champion_id: int, challenger_id,
                  job_run_id) -> None:
    """The ``model_decisions`` row, in the caller's transaction (the same one that promotes,
    so a promotion never lacks its decision)."""
    comparison = {e.name: {k: v for k, v in e.metrics.items() if np.isfinite(v)}
                  for e in run.evaluations}
    comparison["guards"] = [g.as_dict() for g in run.guards]
    if run.off_policy is not None:
        comparison["off_policy"] = {name: e.as_dict()
                                    for name, e in run.off_policy.estimates.items()}
    run.decision_id = registry.log_decision(
        conn, challenger_id=challenger_id, champion_id=champion_id, outcome=run.outcome,
        forced=run.forced, reason=run.decision, comparison=comparison,
        feedback_checks=[c.as_dict() for c in run.checks], job_run_id=job_run_id)


def report_lines(run: RetrainRun) -> list[str]:
    """Markdown for the report: the rules the challenger was held to and the feedback checks."""
    def rows(checks):
        return [f"| {c.name} | {'pass' if c.passed else '**fail**'} | {c.detail} |"
                for c in checks]

    weights = ", ".join(f"{r}: {1 / p:.2f}" for r, p in sorted(run.propensity.items())
                        if r <= 10)
    return [
        f"- Outcome: **{run.outcome}**{' (forced)' if run.forced else ''}: "
        f"{run.challenger_name or 'no challenger'} vs {run.champion_name}",
        *([f"- {run.acceptance_decision}"] if run.acceptance_decision else []), "",
        "## Promotion rules", "", "| rule | result | detail |", "|---|---|---|",
        *rows(run.guards), "", *_off_policy_lines(run.off_policy),
        "## Feedback sanity checks (feedback shown since the last retrain)", "",
        "| check | result | detail |", "|---|---|---|", *rows(run.checks), "",
        ("Position-bias weights of answered feedback by rank (1 / propensity), used in "
         "training and on the holdout: " if run.position_weights else
         "How often each rank is looked at, as 1 / P (not used as training weights; "
         "--position-weights uses them): ") + f"{weights or 'no feedback'}.", ""]


def _off_policy_lines(comparison: off_policy.Comparison | None) -> list[str]:
    """Markdown: both models' estimated accepted recommendations per list."""
    if comparison is None:
        return []
    rows = [f"| {name} | {e.ips:.3f} | {e.snips:.3f} [{e.snips_low:.3f}, {e.snips_high:.3f}] "
            f"| {e.dr:.3f} [{e.dr_low:.3f}, {e.dr_high:.3f}] | {e.support:.0%} |"
            for name, e in comparison.estimates.items()]
    difference, low, high = comparison.differences[("challenger", "champion")]
    return ["## Off-policy estimates (logged feedback)", "",
            f"Expected accepted recommendations per list if each model's lists had been "
            f"published for the {next(iter(comparison.estimates.values())).lists:,} logged "
            f"lists of batch(es) {', '.join(map(str, comparison.batches))}, with 95 % "
            "bootstrap intervals; support = share of the model's items the published lists "
            "showed (explored or picked).", "",
            "| model | IPS | SNIPS | DR | support |", "|---|---|---|---|---|", *rows, "",
            f"Challenger - champion (DR): {difference:+.3f} [{low:+.3f}, {high:+.3f}].", ""]

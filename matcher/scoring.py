"""``matcher score``: the nightly batch. Top-K mentors per active mentee, published atomically.

One run:

1. takes the score lease through the run's own session (:mod:`matcher.lease`; a second run
   exits with :class:`~matcher.errors.LockBusy`, writing nothing); batches a dead run left
   'building' are marked failed and their rows dropped; with no active mentee or no
   eligible mentor it stops (:class:`~matcher.errors.NothingToScore`);
2. loads the champion (sha256 verified) and records a 'building' batch;
3. for chunks of active mentees (:mod:`matcher.chunks`): candidates
   (:mod:`matcher.candidates`), features in SQL, scores from the model, keeping each
   mentee's best few; ``workers`` chunks at a time on threads, each on its own connection,
   or as tasks on a Dask cluster (:mod:`matcher.cluster`), all reading one exported
   snapshot (so every chunk sees the same data);
4. picks K per mentee (:mod:`matcher.lists`: market-aware lists by default, or plain top-K;
   exploration, admins' pins), explains each pick in words and JSON from the model's signed
   feature contributions (:mod:`matcher.reasons`);
5. writes the rows with COPY (invisible: readers see only the published batch), then
   publishes by moving the ``published_batch`` pointer in one short transaction that first
   checks the lease is still this run's (fencing: a run that lost it never publishes) and
   that the batch lists at least half as many mentees as the published one, and prunes old
   batches.

A failure, a lost connection or a kill at any point leaves the previous batch published.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from matcher import (
    batch_tables,
    chunks,
    drift,
    evaluation,
    examination,
    health,
    lease,
    lists,
    overrides,
    reasons,
    registry,
)
from matcher.candidates import active_mentee_ids
from matcher.clock import Clock
from matcher.db import on_snapshot, shared_snapshot, sql
from matcher.errors import NothingToScore, ShrinkRefused
from matcher.features import MAX_CANDIDATES, FeatureSession
from matcher.pgcopy import copy_frame
from matcher.runlog import JobRun, job_run

log = logging.getLogger(__name__)

#: With --max-exposure, each mentee's best K x POOL_FACTOR candidates stay in the running.
POOL_FACTOR = 5
#: The market objective chooses among each mentee's best K x MARKET_POOL_FACTOR candidates by
#: P(success), so that every list stays useful to its mentee. On the medium world
#: (benchmarks/market_benchmark.py) pools of 2K, 3K and 5K reached 0.79, 0.81 and 0.81 of
#: the planner's bound; with 5K, low ranks filled up with poor fits for the flooded mentors.
MARKET_POOL_FACTOR = 3
#: With exploration, the relevance objective keeps each mentee's best 2K: the next-best K
#: are the alternates explored slots draw from.
EXPLORE_POOL_FACTOR = 2
#: Published rows explained and written in one go: bounds the memory of that stage, and
#: small enough that one thread explains while another waits for its COPY.
WRITE_ROWS = 20_000


@dataclass
class ScoreOptions:
    k: int = 10
    max_exposure: float | None = None
    chunk_size: int = 2000
    max_candidates: int = MAX_CANDIDATES
    keep_batches: int = 7
    #: Chunks scored at once, each on its own connection (PostgreSQL builds one chunk's
    #: features while Python predicts another's).
    workers: int = 2
    #: Publish even if the batch lists fewer than half the mentees of the published one.
    allow_shrink: bool = False
    #: ``market``: lists chosen for expected successful mentorships given free seats
    #: (:mod:`matcher.market`); ``relevance``: each mentee's top K by P(success) alone.
    objective: str = "market"
    #: Share of each list's slots from rank 4 on drawn at random from good candidates, with
    #: the probability logged (:mod:`matcher.exploration`); never on the first night.
    explore: float = 0.0
    #: Score the chunks on this Dask scheduler (``tcp://host:8786``) or a local cluster of N
    #: worker processes (``local:N``) instead of threads (:mod:`matcher.cluster`).
    dask: str | None = None

    def parameters(self) -> dict:
        """What the run log and the batch record about this run."""
        return {"k": self.k, "max_exposure": self.max_exposure, "objective": self.objective,
                "max_candidates": self.max_candidates, "allow_shrink": self.allow_shrink,
                "explore": self.explore, "dask": self.dask}


@dataclass
class BatchResult:
    batch_id: int
    model_version_id: int
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


def score(engine: Engine, options: ScoreOptions, progress: bool = False) -> BatchResult:
    """Take the score lease (:class:`LockBusy` if another run holds it) and run one batch,
    recorded in the run log."""
    with _frozen_heap(), job_run(engine, "score", options.parameters()) as job:
        result = run_batch(engine, options, job, progress)
        job.summary = {"batch_id": result.batch_id, "counts": result.counts,
                       "timings": result.timings}
    return result


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Python's cyclic garbage collector leaves the objects alive when the run starts
    (modules, the loaded libraries' own) out of its collections for the run: the
    explanations and query results the run makes by the million otherwise set off full
    collections that walk all of them (a medium run's process spent about a second of its
    17-19 CPU seconds there, ``benchmarks/scoring_benchmark.py``)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_batch(engine: Engine, options: ScoreOptions, job: JobRun,
              progress: bool = False) -> BatchResult:
    """One batch; ``job`` holds the score lease."""
    timings: dict[str, float] = {}
    job.stage = "cleaning up after dead runs"
    with engine.begin() as conn:
        conn.execute(sql("scoring/abandon_unfinished.sql"))
        batch_tables.drop_unattached(conn)
    job.stage = "loading the champion"
    with engine.begin() as conn:
        champion, acceptance = _champions(conn)
        mentees = active_mentee_ids(conn)
        eligible = len(free_capacity(conn))
        if not mentees or not eligible:
            raise NothingToScore(
                f"nothing to score: {len(mentees):,} active mentees and {eligible:,} eligible "
                "mentors (active, with a free seat); nothing was published and the previous "
                "batch, if any, stays served")
        first_night = conn.execute(sql("scoring/published_batch.sql")).first() is None
        options = _effective_options(options, champion, first_night)
        batch_id = conn.execute(sql("scoring/start_batch.sql"), {
            "model_version_id": champion.version_id,
            "parameters": json.dumps(options.parameters())}).scalar_one()
    log.info("batch %d: scoring %d active mentees with model v%d (%s)", batch_id,
             len(mentees), champion.version_id, champion.algorithm)
    try:
        result = _build_and_publish(engine, batch_id, champion, acceptance, mentees, options,
                                    timings, job, progress)
    except BaseException as exc:
        try:
            with engine.begin() as conn:
                conn.execute(sql("scoring/fail_batch.sql"),
                             {"batch_id": batch_id, "error": str(exc)[:2000] or repr(exc)})
                batch_tables.drop_unattached(conn, batch_id)
        except Exception:  # noqa: BLE001 - the next run marks it failed; keep the real cause
            log.debug("batch %d: could not mark it failed now; the next run will", batch_id)
        raise
    return result


def _champions(conn: Connection):
    """The success champion and the acceptance champion (``None`` if there is none)."""
    acceptance = (registry.load_champion(conn, "acceptance")
                  if registry.champion_id(conn, "acceptance") is not None else None)
    return registry.load_champion(conn), acceptance


def preview(engine: Engine, options: ScoreOptions) -> tuple[pd.DataFrame, dict[int, int]]:
    """The lists a run with ``options`` would publish now (mentee_id, mentor_id, rank,
    p_accept, p_success) and the free seats they were chosen for, writing nothing: for
    reports that compare objectives."""
    with engine.begin() as conn:
        champion, acceptance = _champions(conn)
        mentees = active_mentee_ids(conn)
    options = _effective_options(options, champion)
    scored = score_candidates(engine, champion, acceptance, mentees, options, Clock({}))
    chosen, _, _ = lists.choose_lists(scored.pool, options, scored.context.free,
                                      scored.examine, pinned=scored.context.pinned)
    return (chosen[["mentee_id", "mentor_id", "rank", "p_accept", "p_success"]],
            scored.context.free)


def _effective_options(options: ScoreOptions, champion, first_night: bool = False
                       ) -> ScoreOptions:
    """The options this batch really runs with (recorded on the batch)."""
    if options.explore and (first_night or options.max_exposure):
        log.info("%s: this batch's lists are not explored", "no batch is published yet"
                 if first_night else "--max-exposure caps every mentor's lists")
        options = dataclasses.replace(options, explore=0.0)
    if options.objective == "market" and options.max_exposure:
        log.info("--max-exposure caps plain per-mentee lists: this batch uses --objective "
                 "relevance")
        options = dataclasses.replace(options, objective="relevance")
    if options.objective == "market" and not champion.model.probabilistic:
        log.warning("the champion v%d (%s) ranks but gives no probability of success; the "
                    "market objective needs one, so this batch uses --objective relevance",
                    champion.version_id, champion.algorithm)
        options = dataclasses.replace(options, objective="relevance")
    return options


@dataclass
class ListContext:
    """What a night's lists are chosen and explained with besides the scores, read on the
    run's snapshot before its chunks are scored."""

    free: dict[int, int]     # free seats per eligible mentor
    wants: pd.DataFrame      # per mentee: skills_wanted, domains_wanted
    pinned: dict[int, int] = field(default_factory=dict)  # mentee -> mentor (overrides)


@dataclass
class ScoredPool:
    """Every active mentee's best candidates, scored on one snapshot: what the lists are
    chosen from, with what choosing and explaining them needs."""

    pool: pd.DataFrame  # mentee_id, mentor_id, score, p_accept, then the model's features
    pairs_scored: int
    context: ListContext
    examine: np.ndarray      # P(rank r is examined), r = 1..k
    #: Feature -> PSI of tonight's candidates against the champion's training pairs.
    drift: dict[str, float] = field(default_factory=dict)


def score_candidates(engine: Engine, champion, acceptance, mentees: list[int],
                     options: ScoreOptions, clock: Clock, job: JobRun | None = None,
                     progress: bool = False,
                     on_chunk: Callable[[list[int], pd.DataFrame, ListContext], None] | None
                     = None) -> ScoredPool:
    """Candidates, features and predictions for ``mentees`` in chunks, ``options.workers``
    at a time, all on one exported snapshot; keeps each mentee's best few (more than K
    where the market step or the exposure cap chooses among them). ``job`` (the nightly
    run) is checked before each chunk, so a run that lost its lease stops early.
    ``on_chunk(mentees, best, context)`` is called with each chunk as soon as it is scored
    (on the thread that scored it, or as a Dask result arrives)."""
    model = champion.model
    as_of = datetime.now(UTC)
    tally = (drift.Tally(champion.feature_profile, model.features)
             if champion.feature_profile else None)
    pool_size = options.k * (POOL_FACTOR if options.max_exposure else
                             MARKET_POOL_FACTOR if options.objective == "market" else
                             EXPLORE_POOL_FACTOR if options.explore else 1)

    accept_model = acceptance.model if acceptance is not None else None

    def score_chunk(session: FeatureSession, chunk: list[int]) -> tuple[pd.DataFrame, int]:
        if job is not None:
            job.check()  # a run that lost its session stops here, early
        best, pairs = chunks.score_chunk(session, chunk, spec, model, accept_model, clock,
                                         tally)
        if on_chunk is not None:
            on_chunk(chunk, best, context)
        return best, pairs

    parts = _chunks(mentees, options.chunk_size, options.workers)
    started = time.perf_counter()
    with shared_snapshot(engine) as (conn, snapshot):
        pinned = overrides.pins(conn, as_of)
        context = ListContext(
            free_capacity(conn),
            pd.read_sql(sql("scoring/mentee_wants.sql"), conn).set_index("mentee_id"), pinned)
        spec = chunks.ChunkSpec(as_of, pool_size, options.max_candidates, pinned)
        if options.dask:
            from matcher import cluster

            arrived = (None if on_chunk is None else
                       lambda i, best: on_chunk(parts[i], best, context))
            with cluster.client(options.dask) as connection:
                results = cluster.score_on_cluster(
                    connection, engine.url.render_as_string(hide_password=False), snapshot,
                    champion.version_id, acceptance.version_id if acceptance else None, parts,
                    spec, job.check if job is not None else (lambda: None), tally, clock,
                    arrived)
        else:
            # the workers are the parallelism: a BLAS call of the prefilter on threads of its
            # own as well would leave them spinning while the other worker holds the cores
            with threadpool_limits(1 if options.workers > 1 else None, user_api="blas"), \
                    ThreadPoolExecutor(options.workers) as executor:
                sessions = _SnapshotSessions(engine, snapshot)
                try:
                    results = list(tqdm(executor.map(
                        lambda c: score_chunk(sessions.get(), c), parts), total=len(parts),
                        desc="scoring", unit="chunk", disable=not progress))
                finally:
                    executor.shutdown()
                    sessions.close()
        # how people read lists: from feedback, on the same snapshot
        examine = examination.estimate(conn, as_of, options.k)
    clock.seconds["chunks_wall"] = time.perf_counter() - started
    return ScoredPool(pd.concat([best for best, _ in results], ignore_index=True),
                      sum(n for _, n in results), context, examine,
                      tally.result() if tally else {})


def _chunks(mentees: list[int], size: int, workers: int) -> list[list[int]]:
    """``mentees`` in chunks of at most ``size``, as even as can be and as many as a multiple
    of ``workers``, so that the workers finish together: 17,105 mentees in 9 chunks of up to
    2,000 left one of 2 workers scoring the ninth alone."""
    count = -(-len(mentees) // size)
    if count > 1:
        count = -(-count // workers) * workers
    return [part.tolist() for part in np.array_split(np.asarray(mentees, dtype=np.int64),
                                                     max(count, 1)) if len(part)]


def free_capacity(conn: Connection) -> dict[int, int]:
    """Free seats of every eligible mentor (active, fewer active pairings than capacity)."""
    return dict(conn.execute(sql("scoring/free_capacity.sql")).all())


def replay(session: FeatureSession, mentees: list[int], as_of: datetime, models: dict,
           acceptance, options: ScoreOptions, free: dict[int, int], examine: np.ndarray,
           reference: str, chunk_size: int = 2000) -> dict[str, pd.DataFrame]:
    """The lists each of ``models`` (name -> model) would have published for ``mentees`` as
    of ``as_of`` (features point in time; ``free``: the seats then), without exploration:
    mentee_id, mentor_id, rank, p_accept, p_success, and ``reference``: the score the
    model named ``reference`` gives the same pair (one yardstick for every model's items).
    For off-policy estimates (:mod:`matcher.off_policy`); every model is scored on the
    same candidate pairs."""
    options = dataclasses.replace(options, explore=0.0, max_exposure=None)
    size = options.k * (MARKET_POOL_FACTOR if options.objective == "market" else 1)
    pools: dict[str, list[pd.DataFrame]] = {name: [] for name in models}
    for lo in range(0, len(mentees), chunk_size):
        frame = session.candidate_frame(mentees[lo:lo + chunk_size], as_of,
                                        max_candidates=options.max_candidates)
        yardstick = frame[["mentee_id", "mentor_id"]].assign(reference=models[reference].predict(
            evaluation.matrix(frame, models[reference].features)))
        for name, model in models.items():
            best = chunks.best_candidates(frame, model, acceptance and acceptance.model, size)
            pools[name].append(best.merge(yardstick, on=["mentee_id", "mentor_id"],
                                          how="left"))
    out = {}
    for name, model in models.items():
        pool = pd.concat(pools[name], ignore_index=True)
        opts = options if model.probabilistic else dataclasses.replace(
            options, objective="relevance")
        chosen, _, _ = lists.choose_lists(pool, opts, free, examine)
        out[name] = chosen[["mentee_id", "mentor_id", "rank", "p_accept", "p_success",
                            "reference"]]
    return out


def _build_and_publish(engine, batch_id, champion, acceptance, mentees, options, timings,
                       job, progress):
    model = champion.model
    clock = Clock(timings)
    with engine.begin() as conn:
        table = batch_tables.create(conn, batch_id)

    def explain_and_write(part: pd.DataFrame, context: ListContext) -> None:
        """Explain and COPY one share of the rows, on a connection of its own (the batch is
        not published yet, so readers never see a half-written one)."""
        with clock("explain"):
            X = part[model.features].to_numpy(dtype=np.float32)
            wanted = context.wants.reindex(part["mentee_id"]).fillna(0)
            reasons_context = reasons.Context(
                skills_wanted=wanted["skills_wanted"].to_numpy(),
                domains_wanted=wanted["domains_wanted"].to_numpy(),
                free_seats=part["mentor_id"].map(context.free).fillna(0).to_numpy(),
                moved=part["moved"].to_numpy(bool), explored=part["explored"].to_numpy(bool),
                pinned=part["pinned"].to_numpy(bool))
            texts, said = reasons.explain(model.contributions(X), X, model.features,
                                          reasons_context)
            part = part.assign(explanation=texts, reasons=said, batch_id=batch_id)
        with clock("write"), engine.begin() as conn:
            copy_frame(conn, table, part[
                ["batch_id", "mentee_id", "rank", "mentor_id", "score", "explanation",
                 "p_accept", "p_success", "reasons", "propensity", "explored"]])

    # Lists that depend on their own mentee alone are chosen, explained and written on the
    # thread that scored their chunk, while the other workers score theirs; others once
    # every chunk is scored (the market step and the exposure cap weigh all mentees at once).
    picked: list[tuple[pd.DataFrame, list]] = []

    def write_chunk(chunk: list[int], best: pd.DataFrame, context: ListContext) -> None:
        pins = {e: context.pinned[e] for e in chunk if e in context.pinned}
        # (per-mentee lists need no examination estimate: it weighs only the market's)
        chosen, _, _, missing = lists.pick_lists(best, options, context.free, None, batch_id,
                                                 pins)
        for part in _write_parts(len(chosen), 1):
            explain_and_write(chosen.iloc[part], context)
        picked.append((chosen[["mentee_id", "mentor_id", "rank", "score", "explored",
                               "pinned"]], missing))

    by_mentee = lists.chosen_by_mentee(options)
    job.stage = "scoring chunks (candidates, features, predictions)"
    scored = score_candidates(engine, champion, acceptance, mentees, options, clock, job,
                              progress, on_chunk=write_chunk if by_mentee else None)
    context = scored.context
    started = time.perf_counter()
    if by_mentee:
        chosen = pd.concat([rows for rows, _ in picked], ignore_index=True)
        # each list is its mentee's plain top K: the same mean score
        exposure, load = lists.list_figures(
            chosen, {"mean_score_vs_plain_top_k": 1.0}, lists.no_prices(),
            [pin for _, missing in picked for pin in missing], context.free, scored.examine,
            options.k)
    else:
        with clock("market" if options.objective == "market" else "top_k"):
            chosen, exposure, load = lists.choose_lists(scored.pool, options, context.free,
                                                        scored.examine, seed=batch_id,
                                                        pinned=context.pinned)
    if exposure["pins_not_applied"]:
        with engine.connect() as conn:
            exposure["pins_not_applied"] = overrides.obstacles(
                conn, exposure["pins_not_applied"])
    if chosen.empty:
        raise NothingToScore("nothing to publish: no active mentee has a candidate mentor they "
                             "have not already asked; the previous batch, if any, stays "
                             "served")
    job.check()
    job.stage = "explaining and writing the batch"
    if not by_mentee:
        with ThreadPoolExecutor(options.workers) as executor:
            list(executor.map(lambda p: explain_and_write(chosen.iloc[p], context),
                              _write_parts(len(chosen), options.workers)))
    with engine.begin() as conn:
        copy_frame(conn, "batch_mentors", load.assign(batch_id=batch_id)[
            ["batch_id", "mentor_id", "free_seats", "lists", "expected_requests", "price"]])
    timings["explain_and_write_wall"] = time.perf_counter() - started
    per_mentee = chosen.groupby("mentee_id").size()
    without_any = len(set(mentees) - set(per_mentee.index))
    counts = {"mentees": len(mentees), "recommendations": len(chosen),
              "pairs_scored": scored.pairs_scored,
              "mentees_short_of_k": int((per_mentee < options.k).sum()) + without_any,
              "mentees_without_any": without_any,
              **exposure, "drift": scored.drift}
    for line in health.warnings(counts, options.k):
        log.warning("batch %d: %s", batch_id, line)
    job.stage = "publishing"
    with clock("publish"), engine.begin() as conn:
        lease.verify(conn, "score", job.token)
        _refuse_to_shrink(conn, len(per_mentee), options.allow_shrink)
        batch_tables.attach(conn, batch_id)
        conn.execute(sql("scoring/publish.sql"), {
            "batch_id": batch_id, "counts": json.dumps(counts),
            "timings": json.dumps({k: round(v, 3) for k, v in timings.items()})})
    job.stage = "pruning old batches"
    with clock("prune"):  # after publishing: in the returned timings, not the batch's
        with engine.begin() as conn:
            old = list(conn.execute(sql("scoring/prune.sql"), {"keep": options.keep_batches})
                       .scalars())
        batch_tables.retire(engine, old)
    log.info("batch %d published: %s", batch_id, counts)
    return BatchResult(batch_id, champion.version_id, counts, timings)


def _write_parts(rows: int, workers: int) -> list[np.ndarray]:
    """Positions of ``rows`` published rows in at least ``workers`` parts of at most
    WRITE_ROWS: the explanations and COPY data of one part at a time per thread, not of
    half the batch."""
    return [part for part in np.array_split(np.arange(rows),
                                            max(workers, -(-rows // WRITE_ROWS))) if len(part)]


def _refuse_to_shrink(conn: Connection, listed: int, allow_shrink: bool) -> None:
    """:class:`ShrinkRefused` if the new batch lists fewer than half the mentees the
    published one lists (an emptied table, a broken import, a truncated run), unless
    ``allow_shrink``."""
    current, published = conn.execute(sql("scoring/published_mentees.sql")).one()
    if published is None or allow_shrink or listed * 2 >= current:
        return
    raise ShrinkRefused(
        f"the new batch lists {listed:,} mentees, fewer than half of the {current:,} in the "
        f"published batch {published}; it was not published (the previous batch stays "
        "served). If the programme really shrank, run `matcher score --allow-shrink`")


class _SnapshotSessions:
    """One connection and :class:`FeatureSession` per worker thread, all on ``snapshot``."""

    def __init__(self, engine: Engine, snapshot: str) -> None:
        self.engine, self.snapshot = engine, snapshot
        self.local = threading.local()
        self.connections: list[Connection] = []
        self.lock = threading.Lock()

    def get(self) -> FeatureSession:
        session = getattr(self.local, "session", None)
        if session is None:
            conn = self.engine.connect()
            with self.lock:
                self.connections.append(conn)
            session = self.local.session = FeatureSession(on_snapshot(conn, self.snapshot))
        return session

    def close(self) -> None:
        """Close every worker connection; one that died already is only discarded (its
        error is the run's real cause, raised by the chunk that hit it)."""
        for conn in self.connections:
            try:
                conn.rollback()
                conn.close()
            except Exception:  # noqa: BLE001
                conn.invalidate()

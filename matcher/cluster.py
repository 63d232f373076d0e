"""Scoring the nightly run's chunks on a Dask cluster (``matcher score --dask ADDRESS``).

The driver (the ``matcher score`` process) keeps everything that must be global: the score
lease, the exported snapshot, the market step and the publish. Each chunk of mentees
(candidates, features, predictions, each mentee's best few) is a task that any worker can
run (:func:`score_chunk_task`):

* every worker reads the same data: it opens its own connection to the one PostgreSQL
  server, in a REPEATABLE READ transaction that imports the driver's exported snapshot;
* models travel as registry ids, never as objects: a worker loads the champions from the
  database with the registry's checks (sha256, signature with ``MATCHER_MODEL_KEY`` when
  set, trusted types only);
* a worker keeps that connection, its feature session and the models for the snapshot, so
  the per-session set-up (term bitmaps, models) is paid once per worker, not per chunk;
  :func:`release` closes them when the driver is done.

Same data and model give the same lists as the in-process run: the tasks run the same
:func:`matcher.chunks.score_chunk`, and the driver assembles their results in chunk order.
A task whose worker dies is rerun by Dask on another worker; if none is left, or the
scheduler cannot be reached, the run stops with one line (:class:`DaskUnavailable`) and
nothing is published.

``ADDRESS`` is a scheduler (``tcp://host:8786``), or ``local:N`` for a local cluster of N
worker processes started for the run. Workers must have matcher installed and reach the
database at the driver's URL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from matcher import chunks, drift, registry
from matcher.clock import Clock
from matcher.db import on_snapshot
from matcher.errors import MatcherError
from matcher.features import FeatureSession

log = logging.getLogger(__name__)

#: Seconds to wait for a scheduler (or a local cluster) to answer.
CONNECT_TIMEOUT = 20


class DaskUnavailable(MatcherError):
    """The Dask scheduler cannot be reached, Dask is not installed, or the cluster lost every
    worker for a chunk; nothing was published."""

    exit_code = 69  # EX_UNAVAILABLE


@contextmanager
def client(address: str) -> Iterator:
    """A ``distributed.Client`` for ``address`` (``local:N`` starts N local worker processes,
    closed afterwards)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DaskUnavailable("matcher score --dask needs Dask: pip install "
                              "'matcher[dask]' (dask and distributed)") from None
    cluster = None
    try:
        if address.startswith("local:"):
            workers = int(address.split(":", 1)[1])
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.WARNING)
            connection = Client(cluster, timeout=CONNECT_TIMEOUT)
        else:
            connection = Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise DaskUnavailable(f"could not reach the Dask scheduler at {address}: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                              "; nothing was published and the previous batch, if any, stays "
                              "served") from None
    try:
        yield connection
    finally:
        connection.close()
        if cluster is not None:
            cluster.close()


@dataclass
class _WorkerState:
    """What a worker keeps for one snapshot."""

    engine: sa.Engine
    conn: sa.Connection
    session: FeatureSession
    model: object
    acceptance: object
    profile: dict


_STATE: dict[str, _WorkerState] = {}
_LOCK = threading.Lock()


def _state(url: str, snapshot: str, success_id: int, acceptance_id: int | None) -> _WorkerState:
    with _LOCK:
        state = _STATE.get(snapshot)
        if state is None:
            for old in list(_STATE):  # a new night: the old snapshot is over
                release(old)
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            conn = on_snapshot(engine.connect(), snapshot)
            champion = registry.load(conn, success_id)
            acceptance = registry.load(conn, acceptance_id) if acceptance_id else None
            state = _STATE[snapshot] = _WorkerState(
                engine, conn, FeatureSession(conn), champion.model,
                acceptance.model if acceptance else None, champion.feature_profile)
        return state


def score_chunk_task(url: str, snapshot: str, success_id: int, acceptance_id: int | None,
                     chunk: list[int], spec: chunks.ChunkSpec
                     ) -> tuple[pd.DataFrame, int, dict[str, np.ndarray], dict[str, float]]:
    """Run on a worker: one chunk's best candidates, pairs scored, the drift counts and the
    seconds per stage."""
    state = _state(url, snapshot, success_id, acceptance_id)
    tally = (drift.Tally(state.profile, state.model.features) if state.profile else None)
    seconds: dict[str, float] = {}
    with _LOCK:  # one chunk at a time per worker connection
        best, pairs = chunks.score_chunk(state.session, chunk, spec, state.model,
                                         state.acceptance, Clock(seconds), tally)
    return best, pairs, tally.counts if tally else {}, seconds


def release(snapshot: str) -> None:
    """Run on every worker when the driver is done: close what was kept for ``snapshot``."""
    state = _STATE.pop(snapshot, None)
    if state is None:
        return
    try:
        state.conn.rollback()
        state.conn.close()
    except Exception:  # noqa: BLE001 - a connection that died is only discarded
        state.conn.invalidate()
    state.engine.dispose()


def score_on_cluster(connection, url: str, snapshot: str, success_id: int,
                     acceptance_id: int | None, parts: list[list[int]], spec: chunks.ChunkSpec,
                     check, tally: drift.Tally | None, clock: Clock, arrived=None
                     ) -> list[tuple[pd.DataFrame, int]]:
    """Every chunk of ``parts`` as a task on ``connection``'s cluster; results in chunk
    order, drift counts merged into ``tally`` and the workers' seconds per stage added to
    ``clock`` (summed over workers, as threads' are); ``check()`` (the lease) runs as each
    result arrives, then ``arrived(chunk's index, its best candidates)`` if given."""
    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    futures = [connection.submit(score_chunk_task, url, snapshot, success_id, acceptance_id,
                                 part, spec, key=f"matcher-chunk-{snapshot}-{i}", pure=False)
               for i, part in enumerate(parts)]
    order = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(futures)
    try:
        for future in as_completed(futures):
            check()
            best, pairs, counts, seconds = future.result()
            results[order[future.key]] = (best, pairs)
            if arrived is not None:
                arrived(order[future.key], best)
            if tally is not None:
                tally.merge(counts)
            for stage, value in seconds.items():
                clock.seconds[stage] = clock.seconds.get(stage, 0.0) + value
    except (KilledWorker, FutureCancelledError, OSError) as exc:
        raise DaskUnavailable(f"the Dask cluster lost the workers of a chunk "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0]}); nothing "
                              "was published and the previous batch, if any, stays served"
                              ) from None
    finally:
        for future in futures:
            future.cancel()
        try:
            connection.run(release, snapshot)
        except Exception:  # noqa: BLE001 - workers that are gone keep nothing
            log.debug("could not release snapshot %s on every worker", snapshot)
    return results

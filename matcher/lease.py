"""A run's own database session, and the lease an exclusive job holds through it.

Every run (:func:`matcher.runlog.job_run`) opens one session of its own and keeps it for its
whole life: the run log records that session's backend pid, so a run whose process was
killed is recognisably dead (its backend is gone) and the next run marks it failed.

Exclusive jobs (``score``, ``retrain``) also hold a **lease**: the row of ``job_leases`` for
the job names the session's backend as holder, and its ``token`` grows by one on every
acquisition. The lease is free when its holder's backend is gone, so a killed run frees it
at once. A run that lost its session (``idle_session_timeout``, ``pg_terminate_backend``,
a network failure, a server restart) may still be computing; when it tries to publish, the
publishing transaction checks that the token is still its own and its session still alive
(:func:`verify`, with the row locked), so it can never publish over a newer run. Between
chunks it calls :meth:`Session.check` and stops early.

Taking the lease needs UPDATE on ``job_leases``, a privilege reader roles never have
(advisory locks, used before, can be taken by any role).

A heartbeat thread pings the session often enough that the server's idle timeouts never
close it while the run is alive; TCP keepalives (:func:`matcher.db.make_engine`) detect a
dead network path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from matcher.db import sql
from matcher.errors import LeaseLost, LockBusy

log = logging.getLogger(__name__)

#: Seconds between heartbeats when the server has no idle timeout.
HEARTBEAT_SECONDS = 10.0


def holder_name() -> str:
    """Who holds a lease, for messages: host and process id."""
    return f"{socket.gethostname()} pid {os.getpid()}"


class Session:
    """One autocommit connection kept for a run's whole life, with a heartbeat.

    Thread-safe: the heartbeat thread and the run share the connection under a lock.
    """

    def __init__(self, engine: Engine, job: str) -> None:
        self.job = job
        self.token: int | None = None
        self.lost: BaseException | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.conn: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.pid: int = self.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        self.interval = _heartbeat_interval(self.conn)
        self._thread = threading.Thread(target=self._beat, name=f"{job}-heartbeat", daemon=True)
        self._thread.start()

    def execute(self, clause, parameters: dict | None = None):
        with self._lock:
            return self.conn.execute(clause, parameters or {})

    def acquire(self) -> int:
        """Take the job's lease; :class:`LockBusy` if a live session holds it."""
        token = self.execute(sql("lease/acquire.sql"),
                             {"job": self.job, "holder": holder_name()}).scalar_one_or_none()
        if token is None:
            row = self.execute(sql("lease/holder.sql"), {"job": self.job}).one_or_none()
            held = (f" (held by {row.holder}, backend {row.holder_pid}, since "
                    f"{row.acquired_at:%Y-%m-%d %H:%M:%S %Z})" if row else "")
            raise LockBusy(f"another `matcher {self.job}` run is in progress{held}; nothing "
                           "was written (try again when it has finished)")
        self.token = token
        log.debug("%s lease taken with token %d", self.job, token)
        return token

    def check(self) -> None:
        """Raise :class:`LeaseLost` if the session died or (exclusive jobs) the lease moved."""
        if self.lost is not None:
            raise LeaseLost(f"{self.job}: this run lost its database session "
                            f"({first_line(self.lost)}); it stops without publishing and the "
                            "previous results stay in place") from None

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if self.token is None:
                    self.execute(sa.text("SELECT 1"))
                    continue
                still = self.execute(sql("lease/heartbeat.sql"),
                                     {"job": self.job}).scalar_one_or_none()
                if still != self.token:
                    raise RuntimeError(f"the {self.job} lease was taken over "
                                       f"(token {still} is not ours, {self.token})")
            except Exception as exc:  # noqa: BLE001 - any failure means the session is gone
                self.lost = exc
                log.warning("%s: the run's database session is lost: %s", self.job,
                            first_line(exc))
                return

    def release(self) -> None:
        """Give the lease back and close the session; never raises (a dead session has
        released the lease already, as far as the next run can tell)."""
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            if self.token is not None and self.lost is None:
                self.execute(sql("lease/release.sql"), {"job": self.job, "token": self.token})
        except Exception as exc:  # noqa: BLE001
            log.debug("%s: releasing the lease failed (%s); it is free once the session "
                      "is gone", self.job, first_line(exc))
        with contextlib.suppress(Exception):
            self.conn.close()


def verify(conn: Connection, job: str, token: int) -> None:
    """In the transaction that publishes: :class:`LeaseLost` unless ``token`` still holds the
    job's lease through a live session (the row stays locked until the transaction ends)."""
    ours = conn.execute(sql("lease/verify.sql"), {"job": job, "token": token}).scalar_one_or_none()
    if not ours:
        raise LeaseLost(f"{job}: this run no longer holds the {job} lease (its session ended "
                        "or another run took over); nothing was published and the previous "
                        "results stay in place")


def _heartbeat_interval(conn: Connection) -> float:
    """A third of the shortest idle timeout the server would close the session after."""
    timeouts = [t for t in conn.execute(sql("lease/idle_timeouts.sql")).one()
                if isinstance(t, timedelta) and t.total_seconds() > 0]
    shortest = min((t.total_seconds() for t in timeouts), default=None)
    return HEARTBEAT_SECONDS if shortest is None else max(0.05, min(HEARTBEAT_SECONDS,
                                                                    shortest / 3))


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (of the driver's error, for database errors)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

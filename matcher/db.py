"""Database connections: the embedded default server, engines, and loading SQL files."""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from matcher.errors import ConfigError, DatabaseUnavailable
from matcher.settings import SQL_DIR, Settings, get_settings

log = logging.getLogger(__name__)

EMBEDDED_DATABASE = "matcher"

#: TCP keepalives (libpq; ignored on Unix sockets): a connection whose network path died is
#: noticed after about a minute instead of hanging until the kernel gives up (hours).
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
              "keepalives_count": 3}


def embedded_server_url(pgdata: Path, database: str = EMBEDDED_DATABASE) -> str:
    """Start (or reuse) the embedded PostgreSQL in ``pgdata`` and return a psycopg2 URL to it.

    The server keeps running after this process exits so the next command reuses it in
    milliseconds; ``database`` is created on first use.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns about XDG_RUNTIME_DIR on servers
        import pgserver

        try:
            pgdata.parent.mkdir(parents=True, exist_ok=True)
            server = pgserver.get_server(pgdata, cleanup_mode=None)
        except Exception as exc:  # pgserver raises bare exceptions of many kinds
            raise DatabaseUnavailable(
                f"could not start the embedded PostgreSQL in {pgdata}: {exc}; "
                "set MATCHER_DATABASE_URL to use another server"
            ) from None
    socket_dir = make_url(server.get_uri()).query["host"]
    admin = f"postgresql+psycopg2://postgres@/postgres?host={socket_dir}"
    create_database_if_missing(admin, database)
    return f"postgresql+psycopg2://postgres@/{database}?host={socket_dir}"


def stop_embedded_server(pgdata: Path, timeout: float = 60.0) -> bool:
    """Stop the embedded PostgreSQL running in ``pgdata`` with a fast shutdown (SIGINT to its
    postmaster: sessions are ended, committed data is kept) and wait until it is gone. False
    if none was running there."""
    pid_file = pgdata / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, signal.SIGINT)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False  # no server, or a stale file a crashed one left (the next start clears it)
    deadline = time.monotonic() + timeout
    while pid_file.exists():
        if time.monotonic() > deadline:
            raise DatabaseUnavailable(f"the embedded PostgreSQL in {pgdata} (pid {pid}) did "
                                      f"not stop within {timeout:.0f} s")
        time.sleep(0.1)
    _embedded_url_for.cache_clear()
    # pgserver keeps one handle per data folder and process; a stopped server needs a new one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import PostgresServer
    handle = getattr(PostgresServer, "_instances", {}).get(pgdata.expanduser().resolve())
    if handle is not None:
        handle.cleanup()  # opened with cleanup_mode=None: only forgets the handle
    return True


def create_database_if_missing(admin_url: str, database: str) -> None:
    """Create ``database`` on the server of ``admin_url`` unless it exists."""
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            )
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
    finally:
        engine.dispose()


@cache
def _embedded_url_for(pgdata: Path) -> str:
    return embedded_server_url(pgdata)


def database_url(settings: Settings | None = None) -> str:
    """The URL matcher uses: ``MATCHER_DATABASE_URL`` or the embedded server's."""
    settings = settings or get_settings()
    if settings.database_url:
        return settings.database_url
    return _embedded_url_for(settings.pgdata_dir)


def make_engine(url: str | None = None, *, schema_required: bool = True) -> Engine:
    """Create an engine for ``url`` (default: :func:`database_url`), check it connects and,
    unless ``schema_required`` is false, that its schema is at the newest revision."""
    url = url or database_url()
    try:
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args=KEEPALIVES)
    except Exception as exc:
        raise ConfigError(f"cannot use database URL: {exc}") from None
    check_connection(engine)
    if schema_required:
        from matcher.migrations import require_current

        require_current(engine)
    return engine


def describe(engine: Engine) -> str:
    """The URL of ``engine`` without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


def check_connection(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` with a one-line reason if ``engine`` cannot connect."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(f"cannot connect to {describe(engine)}: {reason}") from None


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` means the database connection was lost (terminated backend, closed
    idle session, server restart, network failure), as opposed to an error in a query."""
    return disconnect_of(exc) is not None


def disconnect_of(exc: BaseException) -> BaseException | None:
    """The lost connection behind ``exc``: ``exc`` itself or what raised it (a library such
    as pandas re-raises a driver's error as its own), or ``None`` if the connection was not
    lost."""
    import psycopg2

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        driver = exc.orig or exc if isinstance(exc, sa.exc.DBAPIError) else exc
        if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
            return exc
        if isinstance(driver, psycopg2.InterfaceError):
            return exc
        if isinstance(driver, psycopg2.OperationalError):
            code = getattr(driver, "pgcode", None)
            # 57P01-57P05: admin shutdown, crash shutdown, cannot connect now, database
            # dropped, idle session timeout; no code: the socket closed under libpq.
            if code is None or code.startswith("57P") or code.startswith("08"):
                return exc
        exc = exc.__cause__
    return None


@contextmanager
def raw_connection(engine: Engine) -> Iterator:
    """A psycopg2 connection from ``engine``'s pool, for COPY; committed on success."""
    conn = engine.raw_connection()
    try:
        yield conn.driver_connection
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()


@cache
def sql_text(name: str) -> str:
    """The text of ``sql/<name>``; every query matcher runs lives in such a file."""
    path = SQL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"missing SQL file {path}")
    return path.read_text()


def sql(name: str) -> sa.TextClause:
    """``sql/<name>`` as a SQLAlchemy text clause, to run with bound ``:parameters``."""
    return sa.text(sql_text(name))


def grant_reader(engine: Engine, role: str, create: bool = False) -> None:
    """Grant ``role`` SELECT on the current_recommendations view only (identifiers quoted by
    psycopg2; a role name cannot be a bound parameter).

    Also takes from PUBLIC (so from ``role``) what every role has by default on this
    database and could use against the nightly job: creating temporary tables and creating
    objects in schema public. matcher's own role keeps both, granted explicitly. Readers
    still can connect, read the view and call ordinary functions; they cannot take the
    score or retrain lease (that needs UPDATE on job_leases), read any table, or write.
    """
    from psycopg2 import sql as pgsql

    with engine.begin() as conn:
        statements = ["GRANT USAGE ON SCHEMA public TO {role}",
                      "GRANT SELECT ON current_recommendations TO {role}",
                      "GRANT TEMPORARY ON DATABASE {database} TO {me}",
                      "GRANT CREATE ON SCHEMA public TO {me}",
                      "REVOKE TEMPORARY ON DATABASE {database} FROM PUBLIC",
                      "REVOKE CREATE ON SCHEMA public FROM PUBLIC"]
        if not conn.execute(sql("db/role_exists.sql"), {"role": role}).scalar_one():
            if not create:
                raise ConfigError(f"role {role!r} does not exist (add --create to create it)")
            statements.insert(0, "CREATE ROLE {role} NOLOGIN")
        database, me = conn.execute(sql("db/identity.sql")).one()
        names = {"role": pgsql.Identifier(role), "database": pgsql.Identifier(database),
                 "me": pgsql.Identifier(me)}
        driver = conn.connection.driver_connection
        for statement in statements:
            conn.exec_driver_sql(pgsql.SQL(statement).format(**names).as_string(driver))


@contextmanager
def shared_snapshot(engine: Engine) -> Iterator[tuple[sa.Connection, str]]:
    """A REPEATABLE READ transaction that exports its snapshot, so that other connections
    (threads of this run, Dask workers) importing it read exactly the same data (as
    ``pg_dump --jobs`` does)."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        snapshot = conn.execute(sql("db/export_snapshot.sql")).scalar_one()
        try:
            yield conn, snapshot
        finally:
            conn.rollback()


def on_snapshot(conn: sa.Connection, snapshot: str) -> sa.Connection:
    """``conn`` in a REPEATABLE READ transaction reading the exported ``snapshot``."""
    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    conn.execute(sql("db/import_snapshot.sql"), {"snapshot": snapshot})
    return conn

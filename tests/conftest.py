"""Test databases on a real PostgreSQL.

The server is MATCHER_TEST_DATABASE_URL when set, else the embedded one. One uniquely named
template database is migrated per session; each test that needs data gets its own clone
(CREATE DATABASE ... TEMPLATE), so code under test may commit, lock and open several
connections freely. Every database created here is dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from matcher import migrations
from matcher.db import embedded_server_url
from matcher.settings import get_settings, normalise_database_url


def _server_admin_url() -> str:
    url = os.environ.get("MATCHER_TEST_DATABASE_URL")
    if url:
        return normalise_database_url(url)
    return embedded_server_url(get_settings().pgdata_dir, database="postgres")


class DatabaseFactory:
    """Creates and drops uniquely named databases on the test server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT",
                                      poolclass=sa.pool.NullPool)
        self.prefix = f"matcher_test_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"{self.prefix}_{len(self.created)}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"{clause}')
        self.created.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(reversed(self.created)):
            with self.admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
        self.admin.dispose()


@pytest.fixture(scope="session")
def database_factory() -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(_server_admin_url())
    yield factory
    factory.drop_all()


@pytest.fixture(scope="session")
def template_url(database_factory: DatabaseFactory) -> str:
    """A database at the newest schema revision, used only as a template."""
    url = database_factory.create()
    migrations.upgrade(url)
    return url


@pytest.fixture
def db_url(database_factory: DatabaseFactory, template_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated, empty database for one test; matcher is pointed at it."""
    url = database_factory.create(template=make_url(template_url).database)
    monkeypatch.setenv("MATCHER_DATABASE_URL", url)
    yield url
    database_factory.drop(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def trained(db_url: str, engine: sa.Engine, tmp_path) -> sa.Engine:
    """A tiny seeded world (seed 11) with an XGBoost champion; modules that need another
    world or champion define their own ``trained``."""
    from .helpers import invoke, seed

    seed("--scale", "tiny", "--seed", "11")
    invoke("train", "--algorithms", "xgboost", "--oracle-mentees", "20", "--report-dir",
           str(tmp_path))
    return engine


@pytest.fixture
def reader_role(engine: sa.Engine) -> Iterator[str]:
    """A role made by `matcher db grant-reader ROLE --create`, dropped afterwards."""
    from .helpers import invoke

    role = f"matcher_reader_{uuid.uuid4().hex[:8]}"
    invoke("db", "grant-reader", role, "--create")
    yield role
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
        conn.exec_driver_sql(f'DROP ROLE "{role}"')


# pytest-alembic: its built-in tests run on an empty database of their own.
@pytest.fixture
def alembic_config():
    from pytest_alembic.config import Config

    return Config(alembic_config=migrations.alembic_config(""))


@pytest.fixture
def alembic_engine(database_factory: DatabaseFactory) -> Iterator[sa.Engine]:
    url = database_factory.create()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()
    database_factory.drop(url)

"""Schema revisions: single head, models match DDL, and a full round trip leaves no trace."""

import sqlalchemy as sa
from pytest_alembic.tests import (  # noqa: F401  (collected as tests)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from matcher import migrations

CATALOG_SNAPSHOT = """
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND c.relname <> 'alembic_version' AND c.relname NOT LIKE 'alembic_version%'
UNION ALL
SELECT conname, 'constraint', pg_get_constraintdef(oid), NULL, NULL FROM pg_constraint
WHERE connamespace NOT IN (SELECT oid FROM pg_namespace
                           WHERE nspname IN ('pg_catalog', 'information_schema'))
  AND conname NOT LIKE 'alembic_version%'
UNION ALL
SELECT rolname, 'role', NULL, NULL, NULL FROM pg_roles WHERE rolname LIKE 'matcher%'
ORDER BY 1, 2, 3
"""


def _snapshot(url: str) -> list[tuple]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text(CATALOG_SNAPSHOT))]
    engine.dispose()
    return rows


def test_upgrade_downgrade_upgrade_leaves_no_trace(database_factory):
    url = database_factory.create()
    empty = _snapshot(url)
    migrations.upgrade(url)
    at_head = _snapshot(url)
    assert len(at_head) > len(empty)

    migrations.downgrade(url, "base")
    assert _snapshot(url) == empty
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    assert migrations.current_revision(engine) is None
    engine.dispose()

    migrations.upgrade(url)
    assert _snapshot(url) == at_head
    database_factory.drop(url)

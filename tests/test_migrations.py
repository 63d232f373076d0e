"""Schema revisions: single head, models match DDL, and a full round trip leaves no trace."""

import uuid

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


def test_published_batches_move_into_partitions_and_back_with_the_readers_grants(
        database_factory):
    url = database_factory.create()
    migrations.upgrade(url, "0008")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    reader = f"matcher_reader_{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO mentors (external_id, timezone, availability_utc, capacity) "
            "SELECT id, 'UTC', repeat('0', 672)::bit(672), 2 FROM (VALUES ('m1'), ('m2')) v (id);"
            "INSERT INTO mentees (external_id, timezone, availability_utc) "
            "VALUES ('e1', 'UTC', repeat('0', 672)::bit(672));"
            "INSERT INTO recommendation_batches (status) VALUES ('published'), ('published');"
            "INSERT INTO recommendations (batch_id, mentee_id, rank, mentor_id, score) "
            "SELECT b.id, 1, m.id, m.id, 0.5 FROM recommendation_batches b, mentors m;"
            "INSERT INTO published_batch (batch_id) VALUES (2);"))
        conn.exec_driver_sql(f'CREATE ROLE "{reader}" NOLOGIN')
        conn.exec_driver_sql(f'GRANT SELECT ON current_recommendations TO "{reader}"')
    view = "SELECT * FROM current_recommendations ORDER BY rank"
    stored = "SELECT * FROM recommendations ORDER BY batch_id, rank"

    def contents():
        with engine.connect() as conn:
            partitions = conn.execute(sa.text(
                "SELECT count(*) FROM pg_inherits "
                "WHERE inhparent = 'recommendations'::regclass")).scalar()
            conn.exec_driver_sql(f'SET ROLE "{reader}"')
            shown = conn.execute(sa.text(view)).all()
            conn.exec_driver_sql("RESET ROLE")
            return partitions, shown, conn.execute(sa.text(stored)).all()

    partitions, shown, rows = contents()
    assert partitions == 0 and len(shown) == 2 and len(rows) == 4
    try:
        migrations.upgrade(url)
        assert contents() == (2, shown, rows)
        migrations.downgrade(url, "0008")
        assert contents() == (0, shown, rows)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{reader}"')
            conn.exec_driver_sql(f'DROP ROLE "{reader}"')
        engine.dispose()
        database_factory.drop(url)

"""Recommendations partitioned by batch: each batch's rows in a table of their own.

A run fills its batch's table with no index or foreign key to maintain row by row and the
publishing transaction attaches it (the keys are then checked in one query each and the
indexes built by sorting); an old batch leaves by detaching and dropping its table instead
of deleting its rows one by one (``matcher.batch_tables``). The parent keeps every column,
key, index and check of revision 0008. Published batches become partitions (rows of a batch
never published were never shown and go).

``current_recommendations`` shows the newest attached batch, which is the published one
(a batch is attached in the transaction that publishes it). It no longer reads the
``published_batch`` pointer: a statement planned before a publish commits and executed
after it would see the new pointer but not the new partition, so an empty list; the
partitions it planned with always hold the batch it then shows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op
from psycopg2 import sql as pgsql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: The view reads recommendations, so it is dropped and created again on the new table, with
#: its readers' grants.
_SAVE_VIEW = """
CREATE TEMP TABLE view_grants ON COMMIT DROP AS
SELECT grantee, privilege_type FROM information_schema.role_table_grants
WHERE table_name = 'current_recommendations' AND table_schema = current_schema()
  AND grantee <> current_user;
DROP VIEW current_recommendations;
"""
_RESTORE_GRANTS = """
DO $$
DECLARE g record;
BEGIN
    FOR g IN SELECT * FROM view_grants LOOP
        EXECUTE format('GRANT %s ON current_recommendations TO %I', g.privilege_type,
                       g.grantee);
    END LOOP;
END $$;
DROP TABLE view_grants;
"""

#: recommendations (either kind) renamed to {old}, and the indexes whose names the new table
#: takes (the templates below are filled with these constant names, never with data).
_RENAME = """
ALTER INDEX recommendations_pkey RENAME TO {old}_pkey;
ALTER INDEX uq_recommendations_batch_pair RENAME TO {old}_pair;
ALTER INDEX ix_recommendations_batch_mentor RENAME TO {old}_mentor;
ALTER TABLE recommendations RENAME TO {old};
"""
#: recommendations created again like {old}, {partitioned}, with revision 0008's keys.
_CREATE = """
CREATE TABLE recommendations (LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
    {partitioned};
ALTER TABLE recommendations
    ADD CONSTRAINT recommendations_pkey PRIMARY KEY (batch_id, mentee_id, rank),
    ADD CONSTRAINT uq_recommendations_batch_pair UNIQUE (batch_id, mentee_id, mentor_id),
    ADD CONSTRAINT recommendations_batch_id_fkey FOREIGN KEY (batch_id)
        REFERENCES recommendation_batches (id) ON DELETE CASCADE,
    ADD CONSTRAINT recommendations_mentee_id_fkey FOREIGN KEY (mentee_id)
        REFERENCES mentees (id) ON DELETE CASCADE,
    ADD CONSTRAINT recommendations_mentor_id_fkey FOREIGN KEY (mentor_id)
        REFERENCES mentors (id) ON DELETE CASCADE;
CREATE INDEX ix_recommendations_batch_mentor ON recommendations (batch_id, mentor_id);
"""
_VIEW = """
CREATE VIEW current_recommendations AS
SELECT me.external_id AS mentee_id,
       mo.external_id AS mentor_id,
       r.rank,
       r.score,
       r.explanation,
       r.batch_id,
       b.finished_at AS generated_at,
       r.p_accept,
       r.p_success,
       r.reasons
FROM {source}
JOIN recommendation_batches b ON b.id = r.batch_id
JOIN mentees me ON me.id = r.mentee_id
JOIN mentors mo ON mo.id = r.mentor_id{where};
"""
#: The newest attached batch (upgrade), or the one published_batch points at (revision 0008).
_NEWEST = {"source": "recommendations r",
           "where": "\nWHERE r.batch_id = (SELECT max(batch_id) FROM recommendations)"}
_POINTED = {"source": "published_batch p\nJOIN recommendations r ON r.batch_id = p.batch_id",
            "where": ""}
_BATCHES = """
SELECT id FROM recommendation_batches
WHERE status = 'published' AND id IN (SELECT batch_id FROM recommendations_unpartitioned)
ORDER BY id
"""
#: Each kept batch filled as a run fills one: a plain table, then attached (keys checked in
#: one query each, indexes built by sorting, not row by row).
_PARTITION = """
CREATE TABLE {table} (LIKE recommendations INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
INSERT INTO {table} SELECT * FROM recommendations_unpartitioned WHERE batch_id = {batch_id};
ALTER TABLE recommendations ATTACH PARTITION {table} FOR VALUES IN ({batch_id});
"""
#: Tables of batches that runs left unattached (they hold no published row).
_UNATTACHED = """
SELECT c.relname FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
WHERE c.relkind = 'r' AND NOT c.relispartition
  AND c.relname ~ '^recommendations_batch_[0-9]+$'
"""


def _execute(template: str, **parts) -> None:
    bind = op.get_bind()
    statement = pgsql.SQL(template).format(**parts)
    bind.exec_driver_sql(statement.as_string(bind.connection.driver_connection))


def upgrade() -> None:
    op.execute(_SAVE_VIEW)
    op.execute(_RENAME.format(old="recommendations_unpartitioned"))
    op.execute(_CREATE.format(old="recommendations_unpartitioned",
                              partitioned="PARTITION BY LIST (batch_id)"))
    for batch_id in op.get_bind().exec_driver_sql(_BATCHES).scalars().all():
        _execute(_PARTITION, table=pgsql.Identifier(f"recommendations_batch_{batch_id}"),
                 batch_id=pgsql.Literal(int(batch_id)))
    op.execute("DROP TABLE recommendations_unpartitioned")
    op.execute(_VIEW.format(**_NEWEST))
    op.execute(_RESTORE_GRANTS)


def downgrade() -> None:
    op.execute(_SAVE_VIEW)
    op.execute(_RENAME.format(old="recommendations_partitioned"))
    op.execute(_CREATE.format(old="recommendations_partitioned", partitioned=""))
    op.execute("INSERT INTO recommendations SELECT * FROM recommendations_partitioned")
    op.execute("DROP TABLE recommendations_partitioned")  # and its partitions
    for name in op.get_bind().exec_driver_sql(_UNATTACHED).scalars().all():
        _execute("DROP TABLE {table}", table=pgsql.Identifier(name))
    op.execute(_VIEW.format(**_POINTED))
    op.execute(_RESTORE_GRANTS)

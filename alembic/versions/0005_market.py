"""The matching market: acceptance models beside success models, each recommendation's
P(accept) and P(success), and each batch's load per mentor.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_VIEW = """
CREATE OR REPLACE VIEW current_recommendations AS
SELECT me.external_id AS mentee_id,
       mo.external_id AS mentor_id,
       r.rank,
       r.score,
       r.explanation,
       r.batch_id,
       b.finished_at AS generated_at{extra}
FROM published_batch p
JOIN recommendation_batches b ON b.id = p.batch_id
JOIN recommendations r ON r.batch_id = p.batch_id
JOIN mentees me ON me.id = r.mentee_id
JOIN mentors mo ON mo.id = r.mentor_id;
"""


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE model_versions ADD COLUMN target text NOT NULL DEFAULT 'success';
        ALTER TABLE model_versions ADD CONSTRAINT ck_model_versions_target
            CHECK (target IN ('success', 'acceptance'));
        DROP INDEX uq_model_versions_one_champion;
        CREATE UNIQUE INDEX uq_model_versions_one_champion_per_target
            ON model_versions (target) WHERE status = 'champion';
        ALTER TABLE recommendations ADD COLUMN p_accept double precision;
        ALTER TABLE recommendations ADD COLUMN p_success double precision;
        CREATE TABLE batch_mentors (
            batch_id          bigint NOT NULL
                REFERENCES recommendation_batches (id) ON DELETE CASCADE,
            mentor_id         bigint NOT NULL REFERENCES mentors (id) ON DELETE CASCADE,
            free_seats        integer NOT NULL,
            lists             integer NOT NULL,
            expected_requests double precision NOT NULL,
            price             double precision NOT NULL,
            PRIMARY KEY (batch_id, mentor_id)
        );
        COMMENT ON TABLE batch_mentors IS
            'Per batch and eligible mentor: free seats, lists naming the mentor, expected '
            'requests under the examination model, and the congestion price.';
        """
    )
    op.execute(_VIEW.format(extra=",\n       r.p_accept,\n       r.p_success"))


def downgrade() -> None:
    op.execute("DROP VIEW current_recommendations")
    op.execute(_VIEW.replace("CREATE OR REPLACE VIEW", "CREATE VIEW").format(extra=""))
    op.execute(
        """
        DROP TABLE batch_mentors;
        ALTER TABLE recommendations DROP COLUMN p_success;
        ALTER TABLE recommendations DROP COLUMN p_accept;
        DROP INDEX uq_model_versions_one_champion_per_target;
        DELETE FROM model_versions WHERE target <> 'success';
        CREATE UNIQUE INDEX uq_model_versions_one_champion ON model_versions (status)
            WHERE status = 'champion';
        ALTER TABLE model_versions DROP CONSTRAINT ck_model_versions_target;
        ALTER TABLE model_versions DROP COLUMN target;
        """
    )

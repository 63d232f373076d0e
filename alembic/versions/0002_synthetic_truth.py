"""synthetic_truth schema: hidden traits and coefficients of seeded worlds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE SCHEMA synthetic_truth;
        COMMENT ON SCHEMA synthetic_truth IS
            'Ground truth of seeded synthetic worlds; read by evaluation only, '
            'never by training or scoring.';
        CREATE TABLE synthetic_truth.world (
            singleton    boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            seed         bigint NOT NULL,
            as_of        timestamptz NOT NULL,
            coefficients jsonb NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE synthetic_truth.mentor_traits (
            mentor_id  bigint PRIMARY KEY REFERENCES mentors (id) ON DELETE CASCADE,
            quality    double precision NOT NULL,
            popularity double precision NOT NULL
        );
        CREATE TABLE synthetic_truth.mentee_traits (
            mentee_id  bigint PRIMARY KEY REFERENCES mentees (id) ON DELETE CASCADE,
            motivation double precision NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP SCHEMA synthetic_truth CASCADE")

"""Job leases with fencing tokens, run liveness, signed model artifacts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE job_leases (
            job         text PRIMARY KEY,
            token       bigint NOT NULL DEFAULT 0,
            holder_pid  integer,
            holder      text,
            acquired_at timestamptz,
            released_at timestamptz
        );
        COMMENT ON TABLE job_leases IS
            'One row per exclusive job (score, retrain): held while holder_pid is a live '
            'backend; token grows on every acquisition and fences late writers.';
        ALTER TABLE job_runs ADD COLUMN backend_pid integer;
        ALTER TABLE job_runs ADD COLUMN lease_token bigint;
        ALTER TABLE model_versions ADD COLUMN artifact_signature text;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE model_versions DROP COLUMN artifact_signature;
        ALTER TABLE job_runs DROP COLUMN lease_token;
        ALTER TABLE job_runs DROP COLUMN backend_pid;
        DROP TABLE job_leases;
        """
    )

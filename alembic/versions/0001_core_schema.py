"""Core schema: people, interactions, feedback, recommendations, registry, run log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from pathlib import Path

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_DDL = Path(__file__).with_suffix(".sql")


def upgrade() -> None:
    op.execute(_DDL.read_text())


def downgrade() -> None:
    op.execute(
        """
        DROP VIEW current_recommendations;
        DROP TABLE recommendation_feedback, published_batch, recommendations,
                   recommendation_batches, model_promotions, model_versions, job_runs,
                   interactions, mentees, mentors;
        """
    )

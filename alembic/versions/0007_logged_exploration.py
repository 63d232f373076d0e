"""Logged exploration: the probability with which each shown item was placed at its rank.

* ``recommendations.propensity``: P(this mentor at this rank) under the batch's randomised
  lists (1 where nothing was random); ``recommendations.explored``: drawn at random rather
  than chosen (:mod:`matcher.exploration`).
* ``recommendation_feedback.propensity`` and ``p_success``: the same, and the model's
  P(success) of the pair, copied from the recommendation the row answers when it is imported
  (the recommendation itself is pruned after a few nights, the feedback is kept); null for
  feedback on lists matcher did not publish. P(success) separates how often a rank is looked
  at from how good the picks there are (:mod:`matcher.examination`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE recommendations ADD COLUMN propensity double precision NOT NULL DEFAULT 1;
        ALTER TABLE recommendations ADD CONSTRAINT ck_recommendations_propensity
            CHECK (propensity > 0 AND propensity <= 1);
        ALTER TABLE recommendations ADD COLUMN explored boolean NOT NULL DEFAULT false;
        ALTER TABLE recommendation_feedback ADD COLUMN propensity double precision;
        ALTER TABLE recommendation_feedback ADD COLUMN p_success double precision;
        ALTER TABLE recommendation_feedback ADD CONSTRAINT ck_feedback_propensity
            CHECK (propensity > 0 AND propensity <= 1);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE recommendation_feedback DROP COLUMN p_success;
        ALTER TABLE recommendation_feedback DROP COLUMN propensity;
        ALTER TABLE recommendations DROP COLUMN explored;
        ALTER TABLE recommendations DROP COLUMN propensity;
        """
    )

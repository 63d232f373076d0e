"""Readable reasons on every recommendation, and the mentor's answer on feedback.

* ``recommendations.reasons``: what helped the pick and what held it back, in words
  ("shares 3 of the 4 skills asked for; same time zone; despite: no shared language
  listed"); the JSON ``explanation`` stays for programs. The view shows it.
* ``recommendation_feedback.mentor_response``: what the mentor answered a request the mentee
  sent from the list (``accepted`` / ``declined``), so that the acceptance model learns from
  feedback as well as from interactions. Only an accepted recommendation (a request) has one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
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
       b.finished_at AS generated_at,
       r.p_accept,
       r.p_success{extra}
FROM published_batch p
JOIN recommendation_batches b ON b.id = p.batch_id
JOIN recommendations r ON r.batch_id = p.batch_id
JOIN mentees me ON me.id = r.mentee_id
JOIN mentors mo ON mo.id = r.mentor_id;
"""

# A view can gain a column at its end in place (CREATE OR REPLACE keeps its grants), but
# losing one means dropping it: on downgrade the readers' grants are saved and restored.
_SAVE_GRANTS = """
CREATE TEMP TABLE view_grants ON COMMIT DROP AS
SELECT grantee, privilege_type FROM information_schema.role_table_grants
WHERE table_name = 'current_recommendations' AND table_schema = current_schema()
  AND grantee <> current_user;
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




def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE recommendations ADD COLUMN reasons text NOT NULL DEFAULT '';
        ALTER TABLE recommendation_feedback ADD COLUMN mentor_response text;
        ALTER TABLE recommendation_feedback ADD CONSTRAINT ck_feedback_mentor_response
            CHECK (mentor_response IN ('accepted', 'declined'));
        ALTER TABLE recommendation_feedback ADD CONSTRAINT ck_feedback_response_needs_request
            CHECK (mentor_response IS NULL OR action = 'accepted');
        """
    )
    op.execute(_VIEW.format(extra=",\n       r.reasons"))


def downgrade() -> None:
    op.execute(_SAVE_GRANTS)
    op.execute("DROP VIEW current_recommendations")
    op.execute(_VIEW.format(extra=""))
    op.execute(_RESTORE_GRANTS)
    op.execute(
        """
        ALTER TABLE recommendation_feedback DROP CONSTRAINT ck_feedback_response_needs_request;
        ALTER TABLE recommendation_feedback DROP CONSTRAINT ck_feedback_mentor_response;
        ALTER TABLE recommendation_feedback DROP COLUMN mentor_response;
        ALTER TABLE recommendations DROP COLUMN reasons;
        """
    )

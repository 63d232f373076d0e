"""The database schema as SQLAlchemy Core tables.

Alembic revisions create the schema; this module mirrors it so Python code can name tables
and columns, and so a test can prove the revisions and these definitions match.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, BIT, BYTEA, JSONB

#: Weekly availability is kept as a bitmap of 15-minute UTC slots, Monday 00:00 UTC first.
SLOTS_PER_WEEK = 7 * 24 * 4

INTERACTION_STATUSES = ("declined", "active", "completed", "abandoned")
FEEDBACK_ACTIONS = ("accepted", "declined", "ignored")
MENTOR_RESPONSES = ("accepted", "declined")
EXPERIENCE_LEVELS = ("student", "junior", "mid", "senior")
BATCH_STATUSES = ("building", "published", "failed")
MODEL_STATUSES = ("candidate", "champion", "retired")
MODEL_TARGETS = ("success", "acceptance")
JOB_STATUSES = ("running", "succeeded", "failed")

metadata = sa.MetaData()


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    ]


def _profile_columns() -> list[sa.Column]:
    """Columns mentors and mentees share."""
    text_array = ARRAY(sa.Text())
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("external_id", sa.Text, nullable=False, unique=True),
        sa.Column("domains", text_array, nullable=False, server_default="{}"),
        sa.Column("skills", text_array, nullable=False, server_default="{}"),
        sa.Column("industry", sa.Text),
        sa.Column("timezone", sa.Text, nullable=False),
        sa.Column("languages", text_array, nullable=False, server_default="{}"),
    ]


def _availability_columns() -> list[sa.Column]:
    return [
        sa.Column("availability", sa.Text, nullable=False, server_default=""),
        sa.Column("availability_utc", BIT(SLOTS_PER_WEEK), nullable=False),
    ]


mentors = sa.Table(
    "mentors",
    metadata,
    *_profile_columns(),
    sa.Column("style", sa.Text),
    sa.Column("experience_years", sa.Integer),
    sa.Column("capacity", sa.Integer, nullable=False),
    *_availability_columns(),
    sa.Column("bio", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    *_timestamps(),
    sa.CheckConstraint("capacity >= 0", name="ck_mentors_capacity_nonnegative"),
    sa.CheckConstraint("experience_years >= 0", name="ck_mentors_experience_nonnegative"),
    sa.Index("ix_mentors_domains", "domains", postgresql_using="gin"),
    sa.Index("ix_mentors_skills", "skills", postgresql_using="gin"),
)

mentees = sa.Table(
    "mentees",
    metadata,
    *_profile_columns(),
    sa.Column("preferred_style", sa.Text),
    sa.Column("experience_level", sa.Text),
    *_availability_columns(),
    sa.Column("goals", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    *_timestamps(),
    sa.CheckConstraint(_in("experience_level", EXPERIENCE_LEVELS),
                       name="ck_mentees_experience_level"),
    sa.Index("ix_mentees_domains", "domains", postgresql_using="gin"),
    sa.Index("ix_mentees_skills", "skills", postgresql_using="gin"),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("mentee_id", sa.BigInteger, sa.ForeignKey("mentees.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("mentor_id", sa.BigInteger, sa.ForeignKey("mentors.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("rating", sa.SmallInteger),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.UniqueConstraint("mentee_id", "mentor_id", "requested_at",
                        name="uq_interactions_pair_time"),
    sa.CheckConstraint(_in("status", INTERACTION_STATUSES), name="ck_interactions_status"),
    sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_interactions_rating"),
    sa.CheckConstraint("ended_at >= requested_at", name="ck_interactions_ended_after_request"),
    sa.CheckConstraint("status <> 'active' OR ended_at IS NULL",
                       name="ck_interactions_active_not_ended"),
    sa.Index("ix_interactions_mentor_time", "mentor_id", "requested_at"),
    sa.Index("ix_interactions_mentee_time", "mentee_id", "requested_at"),
)

job_runs = sa.Table(
    "job_runs",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("job", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="running"),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("parameters", JSONB, nullable=False, server_default="{}"),
    sa.Column("summary", JSONB, nullable=False, server_default="{}"),
    sa.Column("error", sa.Text),
    # Revision 0004: the backend of the run's own session (alive while the run is) and the
    # lease token an exclusive job held.
    sa.Column("backend_pid", sa.Integer),
    sa.Column("lease_token", sa.BigInteger),
    sa.CheckConstraint(_in("status", JOB_STATUSES), name="ck_job_runs_status"),
    sa.Index("ix_job_runs_job_started", "job", "started_at"),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("algorithm", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False, server_default="candidate"),
    sa.Column("parameters", JSONB, nullable=False, server_default="{}"),
    sa.Column("features", ARRAY(sa.Text()), nullable=False),
    sa.Column("training_window", JSONB, nullable=False, server_default="{}"),
    sa.Column("row_counts", JSONB, nullable=False, server_default="{}"),
    sa.Column("metrics", JSONB, nullable=False, server_default="{}"),
    sa.Column("library_versions", JSONB, nullable=False, server_default="{}"),
    sa.Column("artifact_format", sa.Text, nullable=False),
    sa.Column("artifact", BYTEA, nullable=False),
    sa.Column("artifact_sha256", sa.Text, nullable=False),
    sa.Column("job_run_id", sa.BigInteger, sa.ForeignKey("job_runs.id", ondelete="SET NULL")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    # Revision 0004: HMAC-SHA256 by a key kept outside the database (MATCHER_MODEL_KEY).
    sa.Column("artifact_signature", sa.Text),
    # Revision 0005: what the model predicts, P(success) or P(mentor accepts).
    sa.Column("target", sa.Text, nullable=False, server_default="success"),
    # Revision 0008: feature distributions over the training pairs (matcher.drift).
    sa.Column("feature_profile", JSONB, nullable=False, server_default="{}"),
    sa.CheckConstraint(_in("target", MODEL_TARGETS), name="ck_model_versions_target"),
    sa.CheckConstraint(_in("status", MODEL_STATUSES), name="ck_model_versions_status"),
    sa.CheckConstraint("artifact_sha256 ~ '^[0-9a-f]{64}$'", name="ck_model_versions_sha256"),
    # At most one champion per target.
    sa.Index("uq_model_versions_one_champion_per_target", "target", unique=True,
             postgresql_where=sa.text("status = 'champion'")),
)

model_promotions = sa.Table(
    "model_promotions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("model_version_id", sa.BigInteger,
              sa.ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("previous_champion_id", sa.BigInteger,
              sa.ForeignKey("model_versions.id", ondelete="SET NULL")),
    sa.Column("promoted_by", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
)

DECISION_OUTCOMES = ("promoted", "kept", "dry_run")

# Revision 0003: every `matcher retrain` decision.
model_decisions = sa.Table(
    "model_decisions",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("challenger_id", sa.BigInteger,
              sa.ForeignKey("model_versions.id", ondelete="SET NULL")),
    sa.Column("champion_id", sa.BigInteger,
              sa.ForeignKey("model_versions.id", ondelete="SET NULL")),
    sa.Column("outcome", sa.Text, nullable=False),
    sa.Column("forced", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("comparison", JSONB, nullable=False, server_default="{}"),
    sa.Column("feedback_checks", JSONB, nullable=False, server_default="{}"),
    sa.Column("decided_by", sa.Text, nullable=False),
    sa.Column("job_run_id", sa.BigInteger, sa.ForeignKey("job_runs.id", ondelete="SET NULL")),
    sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.CheckConstraint(_in("outcome", DECISION_OUTCOMES), name="ck_model_decisions_outcome"),
    comment="One row per matcher retrain: challenger vs champion on the same holdout, "
            "the decision and why.",
)

# Revision 0004: exclusive jobs (score, retrain) and their fencing tokens.
job_leases = sa.Table(
    "job_leases",
    metadata,
    sa.Column("job", sa.Text, primary_key=True),
    sa.Column("token", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("holder_pid", sa.Integer),
    sa.Column("holder", sa.Text),
    sa.Column("acquired_at", sa.DateTime(timezone=True)),
    sa.Column("released_at", sa.DateTime(timezone=True)),
    comment="One row per exclusive job (score, retrain): held while holder_pid is a live "
            "backend; token grows on every acquisition and fences late writers.",
)

recommendation_batches = sa.Table(
    "recommendation_batches",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("status", sa.Text, nullable=False, server_default="building"),
    sa.Column("model_version_id", sa.BigInteger,
              sa.ForeignKey("model_versions.id", ondelete="SET NULL")),
    sa.Column("parameters", JSONB, nullable=False, server_default="{}"),
    sa.Column("counts", JSONB, nullable=False, server_default="{}"),
    sa.Column("timings", JSONB, nullable=False, server_default="{}"),
    sa.Column("error", sa.Text),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("published_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint(_in("status", BATCH_STATUSES), name="ck_recommendation_batches_status"),
)

recommendations = sa.Table(
    "recommendations",
    metadata,
    sa.Column("batch_id", sa.BigInteger,
              sa.ForeignKey("recommendation_batches.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("mentee_id", sa.BigInteger, sa.ForeignKey("mentees.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("rank", sa.SmallInteger, primary_key=True),
    sa.Column("mentor_id", sa.BigInteger, sa.ForeignKey("mentors.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("explanation", JSONB, nullable=False, server_default="[]"),
    # Revision 0005: the model's P(mentor accepts) and P(success) of the pair.
    sa.Column("p_accept", sa.Float),
    sa.Column("p_success", sa.Float),
    # Revision 0006: what helped the pick and what held it back, in words.
    sa.Column("reasons", sa.Text, nullable=False, server_default=""),
    # Revision 0007: P(this mentor at this rank) under the batch's exploration, and whether
    # it was drawn at random.
    sa.Column("propensity", sa.Float, nullable=False, server_default="1"),
    sa.Column("explored", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.CheckConstraint("propensity > 0 AND propensity <= 1",
                       name="ck_recommendations_propensity"),
    sa.UniqueConstraint("batch_id", "mentee_id", "mentor_id",
                        name="uq_recommendations_batch_pair"),
    sa.CheckConstraint("rank >= 1", name="ck_recommendations_rank_positive"),
    sa.Index("ix_recommendations_batch_mentor", "batch_id", "mentor_id"),
    # Revision 0009: one partition per batch (matcher.batch_tables).
    postgresql_partition_by="LIST (batch_id)",
)

# Revision 0005: each batch's load per eligible mentor.
batch_mentors = sa.Table(
    "batch_mentors",
    metadata,
    sa.Column("batch_id", sa.BigInteger,
              sa.ForeignKey("recommendation_batches.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("mentor_id", sa.BigInteger, sa.ForeignKey("mentors.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("free_seats", sa.Integer, nullable=False),
    sa.Column("lists", sa.Integer, nullable=False),
    sa.Column("expected_requests", sa.Float, nullable=False),
    sa.Column("price", sa.Float, nullable=False),
    comment="Per batch and eligible mentor: free seats, lists naming the mentor, expected "
            "requests under the examination model, and the congestion price.",
)

published_batch = sa.Table(
    "published_batch",
    metadata,
    # A single row: the batch that current_recommendations shows.
    sa.Column("singleton", sa.Boolean, primary_key=True, server_default=sa.true()),
    sa.Column("batch_id", sa.BigInteger,
              sa.ForeignKey("recommendation_batches.id", ondelete="RESTRICT"), nullable=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.CheckConstraint("singleton", name="ck_published_batch_singleton"),
)

recommendation_feedback = sa.Table(
    "recommendation_feedback",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("mentee_id", sa.BigInteger, sa.ForeignKey("mentees.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("mentor_id", sa.BigInteger, sa.ForeignKey("mentors.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("batch_id", sa.BigInteger,
              sa.ForeignKey("recommendation_batches.id", ondelete="SET NULL")),
    sa.Column("rank", sa.SmallInteger, nullable=False),
    sa.Column("shown_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("acted_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    # Revision 0006: the mentor's answer to the request an accepted recommendation became.
    sa.Column("mentor_response", sa.Text),
    # Revision 0007: the propensity and P(success) of the recommendation the row answers.
    sa.Column("propensity", sa.Float),
    sa.Column("p_success", sa.Float),
    sa.CheckConstraint("propensity > 0 AND propensity <= 1", name="ck_feedback_propensity"),
    sa.UniqueConstraint("mentee_id", "mentor_id", "shown_at", name="uq_feedback_pair_shown"),
    sa.CheckConstraint("rank >= 1", name="ck_feedback_rank_positive"),
    sa.CheckConstraint(_in("action", FEEDBACK_ACTIONS), name="ck_feedback_action"),
    sa.CheckConstraint("acted_at >= shown_at", name="ck_feedback_acted_after_shown"),
    sa.CheckConstraint(_in("mentor_response", MENTOR_RESPONSES),
                       name="ck_feedback_mentor_response"),
    sa.CheckConstraint("mentor_response IS NULL OR action = 'accepted'",
                       name="ck_feedback_response_needs_request"),
    sa.Index("ix_feedback_mentee_shown", "mentee_id", "shown_at"),
    sa.Index("ix_feedback_mentor_shown", "mentor_id", "shown_at"),
    sa.Index("ix_feedback_batch", "batch_id"),
)

# Revision 0008: admin overrides, with their audit trail (removed ones are kept).
OVERRIDE_KINDS = ("block", "pause", "pin", "capacity")

overrides = sa.Table(
    "overrides",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("mentor_id", sa.BigInteger, sa.ForeignKey("mentors.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("mentee_id", sa.BigInteger, sa.ForeignKey("mentees.id", ondelete="CASCADE")),
    sa.Column("until", sa.DateTime(timezone=True)),
    sa.Column("capacity", sa.Integer),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.Column("removed_by", sa.Text),
    sa.Column("removed_at", sa.DateTime(timezone=True)),
    sa.Column("removed_reason", sa.Text),
    sa.CheckConstraint(_in("kind", OVERRIDE_KINDS), name="ck_overrides_kind"),
    sa.CheckConstraint("(kind IN ('block', 'pin')) = (mentee_id IS NOT NULL)",
                       name="ck_overrides_pair"),
    sa.CheckConstraint("kind <> 'pause' OR until IS NOT NULL", name="ck_overrides_pause_until"),
    sa.CheckConstraint("(kind = 'capacity') = (capacity IS NOT NULL) "
                       "AND (capacity IS NULL OR capacity >= 0)", name="ck_overrides_capacity"),
    sa.CheckConstraint("length(trim(reason)) > 0", name="ck_overrides_reason"),
    sa.CheckConstraint("(removed_at IS NULL) = (removed_by IS NULL)",
                       name="ck_overrides_removal"),
    sa.Index("uq_overrides_in_force", "kind", "mentor_id",
             sa.func.coalesce(sa.column("mentee_id"), 0), unique=True,
             postgresql_where=sa.text("removed_at IS NULL")),
    sa.Index("uq_overrides_one_pin_per_mentee", "mentee_id", unique=True,
             postgresql_where=sa.text("kind = 'pin' AND removed_at IS NULL")),
    sa.Index("ix_overrides_mentee", "mentee_id"),
    comment="Admin overrides (block a pair, pause a mentor, pin a mentor for a mentee, lower a "
            "mentor's capacity) with who, when and why; removed ones are kept.",
)

# Ground truth of synthetic worlds (revision 0002); evaluation reads it, nothing else does.
TRUTH_SCHEMA = "synthetic_truth"

truth_world = sa.Table(
    "world",
    metadata,
    sa.Column("singleton", sa.Boolean, primary_key=True, server_default=sa.true()),
    sa.Column("seed", sa.BigInteger, nullable=False),
    sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    sa.Column("coefficients", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
              server_default=sa.func.now()),
    sa.CheckConstraint("singleton", name="world_singleton_check"),
    schema=TRUTH_SCHEMA,
)

truth_mentor_traits = sa.Table(
    "mentor_traits",
    metadata,
    sa.Column("mentor_id", sa.BigInteger, sa.ForeignKey("mentors.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("quality", sa.Float, nullable=False),
    sa.Column("popularity", sa.Float, nullable=False),
    schema=TRUTH_SCHEMA,
)

truth_mentee_traits = sa.Table(
    "mentee_traits",
    metadata,
    sa.Column("mentee_id", sa.BigInteger, sa.ForeignKey("mentees.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("motivation", sa.Float, nullable=False),
    schema=TRUTH_SCHEMA,
)

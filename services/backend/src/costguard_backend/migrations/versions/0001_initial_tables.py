"""Initial tables: cost_daily, ingestion, anomaly, root_cause, action, approval, audit_event,
outbox.

Money is NUMERIC(38,24) on PostgreSQL and an exact decimal string on SQLite (``Money``);
timestamps are UTC-aware (``UTCDateTime``); JSON is JSONB on PostgreSQL.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from costguard_backend.core.sqltypes import JSONDoc, Money, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anomaly",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("scope", JSONDoc, nullable=False),
        sa.Column("scope_service_name", sa.String(length=200), nullable=True),
        sa.Column("expected_cost", sa.Float(), nullable=False),
        sa.Column("actual_cost", sa.Float(), nullable=False),
        sa.Column("impact_usd", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anomaly_scope_service_name"), ["scope_service_name"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_anomaly_severity"), ["severity"], unique=False)
        batch_op.create_index(batch_op.f("ix_anomaly_start"), ["start"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("detail", JSONDoc, nullable=False),
        sa.Column("image_digest", sa.String(length=200), nullable=True),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_entity", ["entity_type", "entity_id"], unique=False)

    op.create_table(
        "ingestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ingestion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingestion_source"), ["source"], unique=False)

    op.create_table(
        "action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anomaly_id", sa.String(length=200), nullable=False),
        sa.Column("action_type", sa.String(length=50), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("resource_id", sa.String(length=2048), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parameters", JSONDoc, nullable=False),
        sa.Column("estimated_monthly_saving_usd", Money(), nullable=False),
        sa.Column("risk", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("rejected_by", sa.String(length=200), nullable=True),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("execution_result", JSONDoc, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["anomaly_id"],
            ["anomaly.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_anomaly_id"), ["anomaly_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_status"), ["status"], unique=False)

    op.create_table(
        "cost_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("ChargePeriodStart", sa.Date(), nullable=False),
        sa.Column("ProviderName", sa.String(length=200), nullable=False),
        sa.Column("BillingAccountId", sa.String(length=200), nullable=True),
        sa.Column("SubAccountId", sa.String(length=200), nullable=True),
        sa.Column("ServiceName", sa.String(length=200), nullable=False),
        sa.Column("ServiceCategory", sa.String(length=200), nullable=True),
        sa.Column("RegionId", sa.String(length=100), nullable=True),
        sa.Column("ResourceId", sa.String(length=2048), nullable=True),
        sa.Column("ChargeCategory", sa.String(length=50), nullable=False),
        sa.Column("BillingCurrency", sa.String(length=3), nullable=False),
        sa.Column("Tags", JSONDoc, nullable=False),
        sa.Column("BilledCost", Money(), nullable=False),
        sa.Column("EffectiveCost", Money(), nullable=False),
        sa.Column("ListCost", Money(), nullable=True),
        sa.Column("ingestion_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ingestion_id"],
            ["ingestion.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_sha256"),
    )
    with op.batch_alter_table("cost_daily", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_daily_ChargePeriodStart"), ["ChargePeriodStart"], unique=False
        )

    op.create_table(
        "root_cause",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anomaly_id", sa.String(length=200), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("ProviderName", sa.String(length=200), nullable=False),
        sa.Column("BillingAccountId", sa.String(length=200), nullable=True),
        sa.Column("SubAccountId", sa.String(length=200), nullable=True),
        sa.Column("ServiceName", sa.String(length=200), nullable=False),
        sa.Column("RegionId", sa.String(length=100), nullable=True),
        sa.Column("ResourceId", sa.String(length=2048), nullable=True),
        sa.Column("impact_usd", sa.Float(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["anomaly_id"],
            ["anomaly.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("root_cause", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_root_cause_ServiceName"), ["ServiceName"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_root_cause_anomaly_id"), ["anomaly_id"], unique=False)

    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("approver", sa.String(length=200), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approval_action_id"), ["action_id"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("payload", JSONDoc, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_due")

    op.drop_table("outbox")
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_action_id"))

    op.drop_table("approval")
    with op.batch_alter_table("root_cause", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_root_cause_anomaly_id"))
        batch_op.drop_index(batch_op.f("ix_root_cause_ServiceName"))

    op.drop_table("root_cause")
    with op.batch_alter_table("cost_daily", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_daily_ChargePeriodStart"))

    op.drop_table("cost_daily")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_status"))
        batch_op.drop_index(batch_op.f("ix_action_anomaly_id"))

    op.drop_table("action")
    with op.batch_alter_table("ingestion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingestion_source"))

    op.drop_table("ingestion")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_entity")

    op.drop_table("audit_event")
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anomaly_start"))
        batch_op.drop_index(batch_op.f("ix_anomaly_severity"))
        batch_op.drop_index(batch_op.f("ix_anomaly_scope_service_name"))

    op.drop_table("anomaly")

"""Hourly costs (issue #3): ``cost_hourly`` (one FOCUS row per source, UTC hour, dimensions and
Tags; ``day_key_sha256`` names the ``cost_daily`` row its cost is summed into) and
``anomaly.detected_at`` (when an hourly anomaly's data first showed it; NULL for daily ones).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from costguard_backend.core.sqltypes import JSONDoc, Money, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cost_hourly",
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
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_sha256", sa.String(length=64), nullable=False),
        sa.Column("day_key_sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("ChargePeriodStart", UTCDateTime(), nullable=False),
        sa.Column("ingestion_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ingestion_id"], ["ingestion.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_sha256"),
    )
    with op.batch_alter_table("cost_hourly", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_hourly_ChargePeriodStart"), ["ChargePeriodStart"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_cost_hourly_day_key_sha256"), ["day_key_sha256"], unique=False
        )
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.add_column(sa.Column("detected_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    # In place (SQLite >= 3.35 drops a column natively): batch mode would copy and drop the
    # anomaly table, which the root_cause/action/feedback foreign keys refuse once rows exist.
    with op.batch_alter_table("anomaly", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("detected_at")
    with op.batch_alter_table("cost_hourly", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cost_hourly_day_key_sha256"))
        batch_op.drop_index(batch_op.f("ix_cost_hourly_ChargePeriodStart"))
    op.drop_table("cost_hourly")

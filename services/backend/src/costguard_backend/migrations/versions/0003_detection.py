"""Detection inputs set by people (issue #3): ``anomaly_feedback`` (answers on anomalies) and the
singleton ``monitor_config`` (the monitors document as JSON).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from costguard_backend.core.sqltypes import JSONDoc, UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anomaly_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("anomaly_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["anomaly_id"], ["anomaly.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("anomaly_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anomaly_feedback_anomaly_id"), ["anomaly_id"], unique=False
        )
    op.create_table(
        "monitor_config",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", JSONDoc, nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("monitor_config")
    with op.batch_alter_table("anomaly_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anomaly_feedback_anomaly_id"))
    op.drop_table("anomaly_feedback")

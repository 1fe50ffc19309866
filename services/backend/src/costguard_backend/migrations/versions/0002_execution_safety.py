"""Execution safety: outbox idempotency keys, hash-chained append-only audit log, replay guard
for inbound webhooks, one approval per approver, required approvals per action.

- ``outbox.idempotency_key`` (unique): sent as ``Idempotency-Key`` with every delivery.
- ``audit_event.before/after/prev_hash/hash`` and the one-row ``audit_head`` (the chain's tip);
  UPDATE of an audit event is refused by a trigger on both backends, DELETE on PostgreSQL
  (``TRUNCATE`` stays the operator's explicit reset).
- ``webhook_delivery``: signatures of applied inbound deliveries.
- ``approval`` unique per (action_id, approver); ``action.required_approvals`` (default 1).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from costguard_backend.core.sqltypes import JSONDoc, UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_GUARD = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_outbox_idempotency_key", ["idempotency_key"])
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("before", JSONDoc, nullable=True))
        batch_op.add_column(sa.Column("after", JSONDoc, nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("required_approvals", sa.Integer(), server_default="1", nullable=False)
        )
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_approval_approver", ["action_id", "approver"])
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("signature"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_PG_GUARD)
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        op.execute(
            "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
            "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only (UPDATE refused)'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only")
    op.drop_table("webhook_delivery")
    op.drop_table("audit_head")
    with op.batch_alter_table("approval", schema=None) as batch_op:
        batch_op.drop_constraint("uq_approval_approver", type_="unique")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_column("required_approvals")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("after")
        batch_op.drop_column("before")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_idempotency_key", type_="unique")
        batch_op.drop_column("idempotency_key")

"""Monitors source text (issue #3): ``monitor_config.source``, the YAML text a monitors document
was stored as (``PUT /api/v1/monitors`` with ``Content-Type: application/yaml``), comments and
layout kept; NULL for a document stored as JSON (every row before this revision).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("monitor_config", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    # In place (SQLite >= 3.35 drops a column natively); the document itself is kept.
    with op.batch_alter_table("monitor_config", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("source")

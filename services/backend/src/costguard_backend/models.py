"""Database tables (SQLModel). The request and response shapes are the wire models of
``costguard_core.models`` (``CostRow``, ``AnomalyCreate``/``AnomalyPublic``, ``ActionCreate``/
``ActionPublic``, ...); each table here has a ``to_public()`` that returns its wire model, so other
services only ever see those.

Money columns are ``Money`` (NUMERIC(38,12), exact). Timestamps are UTC-aware. Root causes live in
their own table (one row per leaf, ``rank`` keeps the detective's order) so the anomaly list can
filter on ``ServiceName`` with an index instead of searching JSON.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from costguard_core import models as wire
from sqlmodel import Field, SQLModel

from costguard_backend.core.sqltypes import JSONDoc, Money, UTCDateTime, utcnow


def _now() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Ingestion(SQLModel, table=True):
    """One accepted ``POST /costs/ingest`` batch (row counts; ``content_sha256`` of the batch)."""

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=200, index=True)
    content_sha256: str = Field(max_length=64)
    received: int
    inserted: int
    updated: int
    unchanged: int
    status: str = Field(max_length=20, default="succeeded")
    actor: str = Field(max_length=200)
    created_at: datetime = _now()


class CostLeaf(SQLModel):
    """The FOCUS dimension, Tags and money columns a daily and an hourly cost row share."""

    ProviderName: str = Field(max_length=200)
    BillingAccountId: str | None = Field(default=None, max_length=200)
    SubAccountId: str | None = Field(default=None, max_length=200)
    ServiceName: str = Field(max_length=200)
    ServiceCategory: str | None = Field(default=None, max_length=200)
    RegionId: str | None = Field(default=None, max_length=100)
    ResourceId: str | None = Field(default=None, max_length=2048)
    ChargeCategory: str = Field(max_length=50)
    BillingCurrency: str = Field(max_length=3)
    Tags: dict[str, str] = Field(default_factory=dict, sa_type=JSONDoc)
    BilledCost: Decimal = Field(sa_type=Money)
    EffectiveCost: Decimal = Field(sa_type=Money)
    ListCost: Decimal | None = Field(default=None, sa_type=Money)


class CostDaily(CostLeaf, table=True):
    """One FOCUS daily row per (source, day, dimensions, Tags), identified by ``key_sha256``.
    For a leaf-day that has hourly rows (``cost_hourly``) the row is their sum (``rollup.py``)."""

    __tablename__ = "cost_daily"

    id: int | None = Field(default=None, primary_key=True)
    key_sha256: str = Field(max_length=64, unique=True)
    source: str = Field(max_length=200)
    ChargePeriodStart: date = Field(index=True)
    ingestion_id: int = Field(foreign_key="ingestion.id")
    created_at: datetime = _now()
    updated_at: datetime = _now()

    def to_public(self) -> wire.CostRow:
        return wire.CostRow.model_validate(
            {name: getattr(self, name) for name in wire.CostRow.model_fields}
        )


class CostHourly(CostLeaf, table=True):
    """One FOCUS hourly row per (source, UTC hour, dimensions, Tags), identified by
    ``key_sha256``; ``day_key_sha256`` is the ``cost_daily`` key of its day and leaf (the row
    its cost is summed into)."""

    __tablename__ = "cost_hourly"

    id: int | None = Field(default=None, primary_key=True)
    key_sha256: str = Field(max_length=64, unique=True)
    day_key_sha256: str = Field(max_length=64, index=True)
    source: str = Field(max_length=200)
    ChargePeriodStart: datetime = Field(sa_type=UTCDateTime, index=True)
    ingestion_id: int = Field(foreign_key="ingestion.id")
    created_at: datetime = _now()
    updated_at: datetime = _now()

    def to_public(self) -> wire.CostHourlyRow:
        return wire.CostHourlyRow.model_validate(
            {name: getattr(self, name) for name in wire.CostHourlyRow.model_fields}
        )


class Anomaly(SQLModel, table=True):
    """A detected anomaly; ``id`` is the detective's stable fingerprint."""

    id: str = Field(primary_key=True, max_length=200)
    start: date = Field(index=True)
    end: date
    scope: dict[str, str] = Field(default_factory=dict, sa_type=JSONDoc)
    # Copied out of scope so the ``service`` filter can use an index on both backends.
    scope_service_name: str | None = Field(default=None, max_length=200, index=True)
    expected_cost: float
    actual_cost: float
    impact_usd: float
    severity: str = Field(max_length=10, index=True)
    confidence: float
    status: str = Field(default="open", max_length=20)
    created_at: datetime = _now()
    # Hourly anomalies: when their data first showed them (UTC); NULL for daily ones.
    detected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RootCause(SQLModel, table=True):
    __tablename__ = "root_cause"

    id: int | None = Field(default=None, primary_key=True)
    anomaly_id: str = Field(foreign_key="anomaly.id", index=True, max_length=200)
    rank: int
    ProviderName: str = Field(max_length=200)
    BillingAccountId: str | None = Field(default=None, max_length=200)
    SubAccountId: str | None = Field(default=None, max_length=200)
    ServiceName: str = Field(max_length=200, index=True)
    RegionId: str | None = Field(default=None, max_length=100)
    ResourceId: str | None = Field(default=None, max_length=2048)
    impact_usd: float
    share: float


class Action(SQLModel, table=True):
    """A proposed remediation moving through ``workflow`` (``version`` is the optimistic lock)."""

    id: int | None = Field(default=None, primary_key=True)
    anomaly_id: str = Field(foreign_key="anomaly.id", index=True, max_length=200)
    action_type: str = Field(max_length=50)
    provider: str = Field(max_length=50)
    resource_id: str | None = Field(default=None, max_length=2048)
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=sa.Text)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDoc)
    estimated_monthly_saving_usd: Decimal = Field(sa_type=Money)
    risk: str = Field(max_length=10)
    status: str = Field(max_length=20, index=True)
    version: int = Field(default=1)
    approved_by: str | None = Field(default=None, max_length=200)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rejected_by: str | None = Field(default=None, max_length=200)
    rejection_reason: str | None = Field(default=None, sa_type=sa.Text)
    execution_result: dict[str, Any] | None = Field(default=None, sa_type=JSONDoc)
    # Distinct approvers needed before pending_approval → approved (policy: high risk needs 2).
    required_approvals: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = _now()
    updated_at: datetime = _now()

    def to_public(self) -> wire.ActionPublic:
        return wire.ActionPublic.model_validate(self, from_attributes=True)


class Approval(SQLModel, table=True):
    """One human decision on an action (``decision``: approved | rejected); one per approver."""

    __table_args__ = (sa.UniqueConstraint("action_id", "approver", name="uq_approval_approver"),)

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    approver: str = Field(max_length=200)
    decision: str = Field(max_length=20)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    at: datetime = _now()


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    entity_type: str = Field(max_length=50)
    entity_id: str = Field(max_length=200)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=50)
    from_status: str | None = Field(default=None, max_length=20)
    to_status: str | None = Field(default=None, max_length=20)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDoc)
    image_digest: str | None = Field(default=None, max_length=200)
    request_id: str | None = Field(default=None, max_length=200)
    created_at: datetime = _now()
    # Resource state around a tool call (transitions use from_status/to_status).
    before: dict[str, Any] | None = Field(default=None, sa_type=JSONDoc)
    after: dict[str, Any] | None = Field(default=None, sa_type=JSONDoc)
    # Hash chain (``audit.py``): hash = sha256(prev_hash + canonical JSON of the entry).
    prev_hash: str | None = Field(default=None, max_length=64)
    hash: str | None = Field(default=None, max_length=64)

    def to_public(self) -> wire.AuditEventPublic:
        return wire.AuditEventPublic.model_validate(self, from_attributes=True)


class Outbox(SQLModel, table=True):
    """A notification written in the same transaction as the change it announces.

    ``status``: pending → delivered | dead. ``next_attempt_at`` drives retries and doubles as the
    claim lease of the worker that is delivering it.
    """

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=50)
    action_id: int | None = Field(default=None, foreign_key="action.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDoc)
    status: str = Field(default="pending", max_length=20)
    # Sent as the ``Idempotency-Key`` header so a receiver can drop a redelivery.
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _now()
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _now()
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditHead(SQLModel, table=True):
    """The one row (id 1) holding the chain's last hash; writers lock it to append in order."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True)
    seq: int = Field(default=0)
    last_hash: str = Field(max_length=64)


class WebhookDelivery(SQLModel, table=True):
    """A signed inbound delivery already applied (its signature), to refuse replays."""

    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    signature: str = Field(max_length=100, unique=True)
    body_sha256: str = Field(max_length=64)
    action_id: int | None = Field(default=None)
    received_at: datetime = _now()

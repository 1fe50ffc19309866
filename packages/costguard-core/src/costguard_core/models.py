"""Wire models shared by every CostGuard service (the JSON the backend API speaks).

Money crosses the wire as decimal strings (``Decimal``) so nothing is rounded in transit; the
anomaly figures (``expected_cost``, ``impact_usd``) are floats because they come out of numeric
kernels and are estimates, not ledger amounts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, Literal, TypeVar, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

Severity = Literal["low", "medium", "high", "critical"]
#: Severity tiers, lowest first.
SEVERITIES: tuple[str, ...] = get_args(Severity)


def severity_rank(severity: str) -> int:
    """A tier's place in ``SEVERITIES`` (0 = low); -1 for anything else."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else -1


#: FOCUS columns that identify one daily cost series leaf (with ChargePeriodStart, the ingest key).
DIMENSIONS: tuple[str, ...] = (
    "ProviderName",
    "BillingAccountId",
    "SubAccountId",
    "ServiceName",
    "ServiceCategory",
    "RegionId",
    "ResourceId",
    "ChargeCategory",
    "BillingCurrency",
)


class CostRow(BaseModel):
    """One FOCUS-named daily cost row: the sum of a source's line items for one UTC day and leaf.

    Costs are in ``BillingCurrency`` (never converted). ``Tags`` is the FOCUS Tags object.
    """

    model_config = ConfigDict(extra="forbid")

    ChargePeriodStart: date
    ProviderName: str = Field(min_length=1)
    BillingAccountId: str | None = None
    SubAccountId: str | None = None
    ServiceName: str = Field(min_length=1)
    ServiceCategory: str | None = None
    RegionId: str | None = None
    ResourceId: str | None = None
    ChargeCategory: str = "Usage"
    BillingCurrency: str = Field(min_length=3, max_length=3)
    Tags: dict[str, str] = Field(default_factory=dict)
    BilledCost: Decimal
    EffectiveCost: Decimal
    ListCost: Decimal | None = None


class CostIngest(BaseModel):
    """A batch of daily rows from one source. Re-sending a row (same source, day, dimensions and
    tags) stores it once; a changed cost for the same key is a restatement and replaces it."""

    source: str = Field(min_length=1, max_length=200)
    rows: list[CostRow] = Field(max_length=50_000)


def utc_hour(value: datetime) -> datetime:
    """``value`` as a timezone-aware UTC datetime on a whole hour; ``ValueError`` (saying why)
    for a naive time (its zone is unknown) or one with minutes, seconds or microseconds in UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{value.isoformat()} has no UTC offset: give the hour's start in UTC, "
            f"e.g. {value.replace(minute=0, second=0, microsecond=0).isoformat()}Z"
        )
    utc = value.astimezone(UTC)
    if (utc.minute, utc.second, utc.microsecond) != (0, 0, 0):
        raise ValueError(
            f"{utc.isoformat()} is not the start of a UTC hour (minutes and seconds must be 0)"
        )
    return utc


class CostHourlyRow(CostRow):
    """One FOCUS-named hourly cost row: a source's line items for one UTC hour and leaf.

    ``ChargePeriodStart`` is the hour's start, timezone-aware (``2025-03-01T02:00:00Z``; another
    offset is converted to UTC), on a whole UTC hour; a naive time or one with minutes or seconds
    is refused. Every other field is ``CostRow``'s (money in ``BillingCurrency``, never
    converted).
    """

    ChargePeriodStart: datetime  # narrows CostRow.ChargePeriodStart (a datetime is a date)

    @field_validator("ChargePeriodStart")
    @classmethod
    def _whole_utc_hour(cls, value: datetime) -> datetime:
        return utc_hour(value)


class CostHourlyIngest(BaseModel):
    """A batch of hourly rows from one source (``POST /api/v1/costs/ingest-hourly``). Keyed like
    ``CostIngest`` (source, hour, dimensions, Tags): a re-sent row is stored once, a changed cost
    replaces it. The source's daily rows for the same day and leaf are the sums of its hours."""

    source: str = Field(min_length=1, max_length=200)
    rows: list[CostHourlyRow] = Field(max_length=50_000)


class IngestResult(BaseModel):
    ingestion_id: int
    source: str
    received: int
    inserted: int
    updated: int
    unchanged: int


class RootCause(BaseModel):
    """A leaf responsible for part of an anomaly. ``impact_usd`` is its excess over its own
    expected spend summed over the anomaly window; ``share`` is its fraction of the total excess."""

    ProviderName: str
    BillingAccountId: str | None = None
    SubAccountId: str | None = None
    ServiceName: str
    RegionId: str | None = None
    ResourceId: str | None = None
    impact_usd: float
    share: float


class AnomalyBase(BaseModel):
    """An anomaly as ``costguard scan --json`` prints it (days are UTC, money USD)."""

    id: str
    start: date
    end: date
    scope: dict[str, str] = Field(default_factory=dict)
    expected_cost: float
    actual_cost: float
    impact_usd: float
    severity: Severity
    confidence: float = Field(ge=0, le=1)
    root_causes: list[RootCause] = Field(default_factory=list, max_length=10)


class AnomalyCreate(AnomalyBase):
    """What the detective posts; ``id`` is its stable fingerprint, so re-posting is idempotent."""


class AnomalyPost(AnomalyCreate):
    """``POST /api/v1/anomalies`` body: an ``AnomalyCreate`` plus, for one found on hourly data,
    ``detected_at`` — the UTC moment its data first showed it (the end of that hour; timezone
    required). ``None`` for daily anomalies. ``costguard scan --json`` prints ``AnomalyCreate``."""

    detected_at: AwareDatetime | None = None


class AnomalyPublic(AnomalyBase):
    status: Literal["open", "acknowledged", "resolved"] = "open"
    created_at: datetime
    #: When an hourly anomaly was first raised (UTC); ``None`` for one found on daily rows.
    detected_at: datetime | None = None


class ActionStatus(StrEnum):
    proposed = "proposed"
    pending_approval = "pending_approval"
    approved = "approved"
    rejected = "rejected"
    cancelled = "cancelled"
    executing = "executing"
    executed = "executed"
    failed = "failed"
    rolled_back = "rolled_back"


ActionType = Literal[
    "cancel_bigquery_job", "stop_instance", "rightsize_instance", "switch_llm_model", "notify_owner"
]
Risk = Literal["low", "medium", "high"]


class ActionCreate(BaseModel):
    """A remediation the optimizer proposes. ``parameters`` are the action type's arguments
    (e.g. ``{"project_id":…, "job_id":…, "location":…}`` for cancel_bigquery_job)."""

    anomaly_id: str
    action_type: ActionType
    provider: str
    resource_id: str | None = None
    title: str = Field(min_length=1, max_length=300)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    estimated_monthly_saving_usd: Decimal = Field(ge=0)
    risk: Risk = "low"


class ActionPublic(ActionCreate):
    id: int
    status: ActionStatus
    version: int
    approved_by: str | None = None
    approved_at: datetime | None = None
    rejected_by: str | None = None
    rejection_reason: str | None = None
    execution_result: dict[str, Any] | None = None
    created_at: datetime
    updated_at: datetime


class ApproveRequest(BaseModel):
    comment: str | None = Field(default=None, max_length=2000)


class RejectRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)


class ExecutionReport(BaseModel):
    """Body of the inbound webhook ``POST /api/v1/archestra/webhook`` (HMAC-signed)."""

    event: Literal["execution_complete"] = "execution_complete"
    action_id: int
    status: Literal["executed", "failed"]
    result: dict[str, Any] = Field(default_factory=dict)
    executor: str | None = None


class AuditEventPublic(BaseModel):
    id: int
    entity_type: str
    entity_id: str
    actor: str
    action: str
    from_status: str | None = None
    to_status: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)
    image_digest: str | None = None
    request_id: str | None = None
    created_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """A list response: ``data`` plus ``count`` (total matching, before limit/offset)."""

    data: list[T]
    count: int


# --- Anomaly feedback and monitor configuration (issue #3) ---------------------------------------

FeedbackKind = Literal["accurate", "not_an_issue", "planned_activity"]


class FeedbackCreate(BaseModel):
    """``POST /api/v1/anomalies/{id}/feedback`` body: AWS Cost Anomaly Detection's three answers."""

    model_config = ConfigDict(extra="forbid")

    kind: FeedbackKind
    comment: str | None = None


class FeedbackPublic(BaseModel):
    """One stored answer; ``actor`` is the authenticated principal who gave it (UTC time)."""

    id: int
    anomaly_id: str
    kind: FeedbackKind
    comment: str | None = None
    actor: str
    created_at: datetime


class FeedbackItem(BaseModel):
    """An answer joined with the anomaly it judges, as the detector uses it
    (``GET /api/v1/feedback``): scope, start, start-day expected/actual spend (USD), summed
    impact (USD) and root causes, most responsible first."""

    anomaly_id: str
    kind: FeedbackKind
    scope: dict[str, str] = Field(default_factory=dict)
    start: date
    expected_cost: float
    actual_cost: float
    impact_usd: float
    root_causes: list[RootCause] = Field(default_factory=list)
    actor: str | None = None
    created_at: datetime | None = None


class MonitorConfigPublic(BaseModel):
    """``GET/PUT /api/v1/monitors``: the monitors document (``detection.monitors`` shape), who
    stored it and when (None for the built-in default), and ``etag``, the version's strong ETag
    (also the ``ETag`` header; None from a backend that predates it): send it back as
    ``If-Match`` so a ``PUT`` cannot overwrite a change made since (412 instead)."""

    document: dict[str, Any]
    #: The YAML text the document was last stored as (``PUT`` with ``Content-Type:
    #: application/yaml``), comments and layout kept; None when it was stored as JSON (or is
    #: the built-in default, or the backend predates it).
    source: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    etag: str | None = None

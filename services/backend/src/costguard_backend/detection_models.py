"""Tables for the detector's inputs that people set (issue #3): feedback on anomalies and the
monitors document.

- ``anomaly_feedback``: one row per answer (``accurate``, ``not_an_issue``,
  ``planned_activity``, AWS Cost Anomaly Detection's three); an anomaly can collect several
  answers, the detector reads them all (``GET /api/v1/feedback``).
- ``monitor_config``: a single row (``id`` 1) holding the monitors document as JSON (the
  ``costguard_core.detection.monitors`` shape), the YAML text it was sent as (``source``,
  comments kept; NULL when sent as JSON), who stored it and when (UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from costguard_core import models as wire
from sqlmodel import Field, SQLModel

from costguard_backend.core.sqltypes import JSONDoc, UTCDateTime, utcnow

#: The one ``monitor_config`` row's id.
MONITOR_CONFIG_ID = 1


class AnomalyFeedback(SQLModel, table=True):
    """An answer to "was this anomaly real?" given by ``actor`` (the authenticated principal)."""

    __tablename__ = "anomaly_feedback"

    id: int | None = Field(default=None, primary_key=True)
    anomaly_id: str = Field(foreign_key="anomaly.id", index=True, max_length=200)
    kind: str = Field(max_length=30)
    comment: str | None = Field(default=None, max_length=2000)
    actor: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    def to_public(self) -> wire.FeedbackPublic:
        return wire.FeedbackPublic.model_validate(self.model_dump())


class MonitorConfig(SQLModel, table=True):
    """The stored monitors document (singleton row ``MONITOR_CONFIG_ID``)."""

    __tablename__ = "monitor_config"

    id: int = Field(default=MONITOR_CONFIG_ID, primary_key=True)
    document: dict[str, Any] = Field(sa_type=JSONDoc)
    source: str | None = Field(default=None, sa_type=sa.Text)
    updated_by: str = Field(max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

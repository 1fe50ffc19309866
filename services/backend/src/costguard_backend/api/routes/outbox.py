"""``GET /api/v1/outbox``: outbound notifications and their delivery state (admin and viewers).

Payload values that are capabilities rather than data are shown as ``[redacted]`` to every
caller (``SECRET_KEYS``); the stored row keeps them, since its delivery needs them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from costguard_core.models import Page
from fastapi import APIRouter, Query
from pydantic import BaseModel, field_validator
from sqlalchemy import func, select
from sqlmodel import col

from costguard_backend.api.deps import Reader, SessionDep
from costguard_backend.models import Outbox

router = APIRouter(prefix="/outbox", tags=["outbox"])

#: Top-level payload keys masked in the listing. ``response_url`` (``slack_response`` rows): a
#: Slack URL that lets whoever holds it post into the channel, and viewers may read this list.
SECRET_KEYS = frozenset({"response_url"})
REDACTED = "[redacted]"


class OutboxPublic(BaseModel):
    """One outbox row: ``status`` pending | delivered | dead; ``last_error`` is the last failure
    (or, when delivered, why nothing was sent)."""

    id: int
    kind: str
    action_id: int | None
    idempotency_key: str | None
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @field_validator("payload")
    @classmethod
    def _redact(cls, payload: dict[str, Any]) -> dict[str, Any]:
        # A new dict: the row's own payload (an ORM attribute) must keep the real value.
        return {k: REDACTED if k in SECRET_KEYS else v for k, v in payload.items()}


@router.get("", response_model=Page[OutboxPublic])
def list_outbox(
    session: SessionDep,
    _: Reader,
    status: Literal["pending", "delivered", "dead"] | None = None,
    kind: str | None = None,
    action_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[OutboxPublic]:
    """Rows matching the filters, oldest first, and the total count."""
    conditions: list[Any] = []
    if status:
        conditions.append(col(Outbox.status) == status)
    if kind:
        conditions.append(col(Outbox.kind) == kind)
    if action_id is not None:
        conditions.append(col(Outbox.action_id) == action_id)
    count = session.scalar(select(func.count()).select_from(Outbox).where(*conditions)) or 0
    rows = session.scalars(
        select(Outbox).where(*conditions).order_by(col(Outbox.id)).limit(limit).offset(offset)
    )
    data = [OutboxPublic.model_validate(r, from_attributes=True) for r in rows]
    return Page[OutboxPublic](data=data, count=count)

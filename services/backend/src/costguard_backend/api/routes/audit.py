"""``GET /api/v1/audit-events``: the audit trail, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

from costguard_core.models import AuditEventPublic, Page
from fastapi import APIRouter, Query
from sqlalchemy import func, select
from sqlmodel import col

from costguard_backend.api.deps import Reader, SessionDep
from costguard_backend.models import AuditEvent

router = APIRouter(prefix="/audit-events", tags=["audit"])


@router.get("", response_model=Page[AuditEventPublic])
def list_audit_events(
    session: SessionDep,
    _: Reader,
    entity_type: str | None = None,
    entity_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AuditEventPublic]:
    conditions: list[Any] = []
    if entity_type:
        conditions.append(col(AuditEvent.entity_type) == entity_type)
    if entity_id:
        conditions.append(col(AuditEvent.entity_id) == entity_id)
    count = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    stmt = (
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.id))
        .limit(limit)
        .offset(offset)
    )
    return Page[AuditEventPublic](data=[e.to_public() for e in session.scalars(stmt)], count=count)

"""``GET /api/v1/audit-events``: the audit trail, oldest first; ``/export`` (JSON lines, every
column incl. ``prev_hash``/``hash``) and ``/verify`` (the hash chain, ``audit.ChainReport``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from costguard_core.models import AuditEventPublic, Page
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select
from sqlmodel import Session, col

from costguard_backend.api.deps import Reader, SessionDep
from costguard_backend.audit import export_line, iter_entries, verify_chain
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


@router.get("/export", response_class=StreamingResponse)
def export_audit_events(request: Request, _: Reader) -> StreamingResponse:
    """Every audit event, oldest first, one JSON object per line (``application/x-ndjson``)."""

    def lines() -> Iterator[str]:
        # Its own session: the stream outlives the request's dependencies.
        with Session(request.app.state.engine) as session:
            for entry in iter_entries(session):
                yield export_line(entry)

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/verify")
def verify_audit_chain(session: SessionDep, _: Reader) -> dict[str, Any]:
    """``{"ok", "checked", "first_bad_id", "reason"}`` after recomputing every hash."""
    return verify_chain(session).as_dict()

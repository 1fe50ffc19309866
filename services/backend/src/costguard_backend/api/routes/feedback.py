"""Feedback on anomalies (issue #3): people (and agents relaying them) say whether an anomaly was
real; the detective reads every answer back (``GET /api/v1/feedback``) to suppress repeats of
dismissed shapes and to tune sensitivity (``costguard_core.detection.feedback``).

- ``POST /api/v1/anomalies/{id}/feedback``: ``FeedbackCreate`` → 201 ``FeedbackPublic``;
  roles approver, admin, agent (viewer 403); 404 for an unknown anomaly; audited
  (``anomaly`` / ``feedback``) in the same transaction as the stored answer.
- ``GET /api/v1/anomalies/{id}/feedback``: that anomaly's answers, oldest first (any role).
- ``GET /api/v1/feedback?since=``: every answer given at or after ``since`` (UTC; a naive time
  is read as UTC), joined with its anomaly as ``FeedbackItem`` (any role).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, cast

from costguard_core.models import FeedbackCreate, FeedbackItem, FeedbackKind, FeedbackPublic
from costguard_core.models import RootCause as WireRootCause
from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import select
from sqlmodel import Session, col

from costguard_backend.api.deps import Reader, RequestIdDep, SessionDep, SettingsDep, require_roles
from costguard_backend.core.config import Principal
from costguard_backend.detection_models import AnomalyFeedback
from costguard_backend.errors import NotFoundError, check_lengths
from costguard_backend.models import Anomaly, RootCause
from costguard_backend.workflow import record_audit

router = APIRouter(tags=["feedback"])

FeedbackGiver = Annotated[Principal, Depends(require_roles("approver", "admin", "agent"))]


def _anomaly(session: Session, anomaly_id: str) -> Anomaly:
    anomaly = session.get(Anomaly, anomaly_id)
    if anomaly is None:
        raise NotFoundError("anomaly", anomaly_id)
    return anomaly


@router.post(
    "/anomalies/{anomaly_id}/feedback",
    response_model=FeedbackPublic,
    status_code=status.HTTP_201_CREATED,
)
def submit_feedback(
    anomaly_id: str,
    body: FeedbackCreate,
    session: SessionDep,
    principal: FeedbackGiver,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> FeedbackPublic:
    """Store one answer by the caller; raises 404 (unknown anomaly), 422 (comment too long)."""
    _anomaly(session, anomaly_id)
    check_lengths(AnomalyFeedback.__table__, {"comment": body.comment})  # type: ignore[attr-defined]
    row = AnomalyFeedback(
        anomaly_id=anomaly_id, kind=body.kind, comment=body.comment, actor=principal.name
    )
    session.add(row)
    record_audit(
        session,
        entity_type="anomaly",
        entity_id=anomaly_id,
        actor=principal.name,
        action="feedback",
        request_id=request_id,
        image_digest=settings.IMAGE_DIGEST,
        detail={"kind": body.kind, "comment": body.comment},
    )
    session.commit()
    session.refresh(row)
    return row.to_public()


@router.get("/anomalies/{anomaly_id}/feedback", response_model=list[FeedbackPublic])
def list_anomaly_feedback(anomaly_id: str, session: SessionDep, _: Reader) -> list[FeedbackPublic]:
    """The anomaly's answers, oldest first; 404 for an unknown anomaly."""
    _anomaly(session, anomaly_id)
    rows = session.scalars(
        select(AnomalyFeedback)
        .where(col(AnomalyFeedback.anomaly_id) == anomaly_id)
        .order_by(col(AnomalyFeedback.id))
    )
    return [row.to_public() for row in rows]


@router.get("/feedback", response_model=list[FeedbackItem])
def list_feedback(
    session: SessionDep,
    _: Reader,
    since: Annotated[datetime | None, Query(description="UTC; answers at or after it")] = None,
) -> list[FeedbackItem]:
    """Every answer (oldest first) with its anomaly's scope, start, start-day expected/actual
    spend (USD), impact (USD) and root causes in the detective's rank order."""
    stmt = select(AnomalyFeedback, Anomaly).join(
        Anomaly, col(Anomaly.id) == col(AnomalyFeedback.anomaly_id)
    )
    if since is not None:
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        stmt = stmt.where(col(AnomalyFeedback.created_at) >= since)
    pairs = [(fb, a) for fb, a in session.execute(stmt.order_by(col(AnomalyFeedback.id)))]
    causes: dict[str, list[WireRootCause]] = {a.id: [] for _, a in pairs}
    if causes:
        for rc in session.scalars(
            select(RootCause)
            .where(col(RootCause.anomaly_id).in_(list(causes)))
            .order_by(col(RootCause.anomaly_id), col(RootCause.rank))
        ):
            causes[rc.anomaly_id].append(WireRootCause.model_validate(rc, from_attributes=True))
    return [
        FeedbackItem(
            anomaly_id=a.id,
            kind=cast(FeedbackKind, fb.kind),  # stored from a validated FeedbackKind
            scope=a.scope,
            start=a.start,
            expected_cost=a.expected_cost,
            actual_cost=a.actual_cost,
            impact_usd=a.impact_usd,
            root_causes=causes[a.id],
            actor=fb.actor,
            created_at=fb.created_at,
        )
        for fb, a in pairs
    ]

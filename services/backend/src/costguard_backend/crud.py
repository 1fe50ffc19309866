"""Data access for anomalies and actions (keyword-only arguments, wire models in and out).

Functions that change state commit before returning; ``TransitionError`` from ``workflow``
propagates (answered 409), ``NotFoundError`` is 404, ``FieldError`` is 422.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from costguard_core import models as wire
from costguard_core.models import ActionStatus as S
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.errors import FieldError, NotFoundError, check_lengths
from costguard_backend.models import Action, Anomaly, Approval, RootCause
from costguard_backend.outbox import ACTION_APPROVED, APPROVAL_REQUESTED, enqueue
from costguard_backend.workflow import TransitionError, record_audit, transition


def _anomaly_public(session: Session, anomalies: list[Anomaly]) -> list[wire.AnomalyPublic]:
    causes: dict[str, list[wire.RootCause]] = {a.id: [] for a in anomalies}
    if anomalies:
        stmt = (
            select(RootCause)
            .where(col(RootCause.anomaly_id).in_(list(causes)))
            .order_by(col(RootCause.anomaly_id), col(RootCause.rank))
        )
        for rc in session.scalars(stmt):
            causes[rc.anomaly_id].append(wire.RootCause.model_validate(rc, from_attributes=True))
    return [
        wire.AnomalyPublic.model_validate(
            {**a.model_dump(exclude={"scope_service_name"}), "root_causes": causes[a.id]}
        )
        for a in anomalies
    ]


def get_anomaly(*, session: Session, anomaly_id: str) -> wire.AnomalyPublic:
    """The stored anomaly; raises ``NotFoundError``."""
    anomaly = session.get(Anomaly, anomaly_id)
    if anomaly is None:
        raise NotFoundError("anomaly", anomaly_id)
    return _anomaly_public(session, [anomaly])[0]


def create_anomaly(
    *,
    session: Session,
    anomaly_in: wire.AnomalyCreate,
    actor: str,
    request_id: str | None,
    image_digest: str,
) -> tuple[wire.AnomalyPublic, bool]:
    """Store ``anomaly_in`` unless its id exists; return ``(anomaly, created)``. A repeat returns
    the stored anomaly unchanged (the detective re-posts its fingerprints on every scan)."""
    if session.get(Anomaly, anomaly_in.id) is None:
        values = anomaly_in.model_dump(exclude={"root_causes"})
        check_lengths(Anomaly.__table__, values)  # type: ignore[attr-defined]
        for i, rc in enumerate(anomaly_in.root_causes):
            check_lengths(RootCause.__table__, rc.model_dump(), f"root_causes[{i}].")  # type: ignore[attr-defined]
        session.add(Anomaly(**values, scope_service_name=anomaly_in.scope.get("ServiceName")))
        session.flush()
        for rank, rc in enumerate(anomaly_in.root_causes):
            session.add(RootCause(anomaly_id=anomaly_in.id, rank=rank, **rc.model_dump()))
        record_audit(
            session,
            entity_type="anomaly",
            entity_id=anomaly_in.id,
            actor=actor,
            action="create",
            detail={"severity": anomaly_in.severity},
            request_id=request_id,
            image_digest=image_digest,
        )
        try:
            session.commit()
        except IntegrityError:  # a concurrent post of the same fingerprint won
            session.rollback()
        else:
            metrics.ANOMALIES_CREATED.labels(anomaly_in.severity).inc()
            return get_anomaly(session=session, anomaly_id=anomaly_in.id), True
    return get_anomaly(session=session, anomaly_id=anomaly_in.id), False


def list_anomalies(
    *,
    session: Session,
    severity: str | None = None,
    status: str | None = None,
    start_from: date | None = None,
    start_to: date | None = None,
    service: str | None = None,
    min_impact: float | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[list[wire.AnomalyPublic], int]:
    """Anomalies matching every given filter, newest ``start`` first, and the total count.
    ``service`` matches a root cause's ServiceName or the scope's ServiceName; ``min_impact`` is
    USD."""
    conditions: list[Any] = []
    if severity:
        conditions.append(col(Anomaly.severity) == severity)
    if status:
        conditions.append(col(Anomaly.status) == status)
    if start_from:
        conditions.append(col(Anomaly.start) >= start_from)
    if start_to:
        conditions.append(col(Anomaly.start) <= start_to)
    if min_impact is not None:
        conditions.append(col(Anomaly.impact_usd) >= min_impact)
    if service:
        cause = exists().where(RootCause.anomaly_id == Anomaly.id, RootCause.ServiceName == service)
        conditions.append(or_(col(Anomaly.scope_service_name) == service, cause))
    count = session.scalar(select(func.count()).select_from(Anomaly).where(*conditions)) or 0
    stmt = (
        select(Anomaly)
        .where(*conditions)
        .order_by(col(Anomaly.start).desc(), col(Anomaly.id))
        .limit(limit)
        .offset(offset)
    )
    return _anomaly_public(session, list(session.scalars(stmt))), count


def get_action(*, session: Session, action_id: int) -> Action:
    """The action row; raises ``NotFoundError``."""
    action = session.get(Action, action_id, populate_existing=True)
    if action is None:
        raise NotFoundError("action", action_id)
    return action


def list_actions(
    *, session: Session, status: str | None, anomaly_id: str | None, limit: int, offset: int
) -> tuple[list[wire.ActionPublic], int]:
    """Actions matching the filters, newest first, and the total count."""
    conditions: list[Any] = []
    if status:
        conditions.append(col(Action.status) == status)
    if anomaly_id:
        conditions.append(col(Action.anomaly_id) == anomaly_id)
    count = session.scalar(select(func.count()).select_from(Action).where(*conditions)) or 0
    stmt = (
        select(Action)
        .where(*conditions)
        .order_by(col(Action.created_at).desc(), col(Action.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return [a.to_public() for a in session.scalars(stmt)], count


def create_action(
    *,
    session: Session,
    action_in: wire.ActionCreate,
    actor: str,
    request_id: str | None,
    image_digest: str,
) -> Action:
    """Store a proposal and submit it for approval: audit ``proposed`` then ``pending_approval``
    and an ``approval_requested`` outbox row, one transaction. Raises ``FieldError`` if the
    anomaly does not exist."""
    if session.get(Anomaly, action_in.anomaly_id) is None:
        raise FieldError("anomaly_id", f"anomaly {action_in.anomaly_id!r} does not exist")
    values = action_in.model_dump()
    check_lengths(Action.__table__, values)  # type: ignore[attr-defined]
    action = Action(**values, status=S.proposed.value, version=1)
    session.add(action)
    session.flush()
    audit = {"request_id": request_id, "image_digest": image_digest}
    record_audit(
        session,
        entity_type="action",
        entity_id=str(action.id),
        actor=actor,
        action="propose",
        to_status=S.proposed.value,
        **audit,
    )
    session.info.setdefault("transitions", []).append(("none", S.proposed.value))
    transition(session, action, S.pending_approval, actor=actor, **audit)
    enqueue(
        session,
        kind=APPROVAL_REQUESTED,
        action_id=action.id,
        payload={"title": action.title, "url": f"/api/v1/actions/{action.id}"},
    )
    session.commit()
    return action


def decide(
    *,
    session: Session,
    action_id: int,
    approve: bool,
    actor: str,
    note: str | None,
    request_id: str | None,
    image_digest: str,
) -> Action:
    """Approve (comment ``note``) or reject (reason ``note``) as ``actor``; writes the approval
    row, the audit event and, on approval, the ``action_approved`` outbox row in one transaction.
    Raises ``TransitionError`` unless the action is pending_approval at its current version."""
    action = get_action(session=session, action_id=action_id)
    if approve:
        values: dict[str, Any] = {"approved_by": actor, "approved_at": utcnow()}
        to = S.approved
    else:
        values = {"rejected_by": actor, "rejection_reason": note}
        to = S.rejected
    transition(
        session,
        action,
        to,
        actor=actor,
        request_id=request_id,
        image_digest=image_digest,
        detail={"comment": note} if note else None,
        values=values,
    )
    session.add(Approval(action_id=action_id, approver=actor, decision=to.value, comment=note))
    if approve:
        enqueue(session, kind=ACTION_APPROVED, action_id=action_id, payload={"approver": actor})
    session.commit()
    return action


def apply_report(
    *, session: Session, report: wire.ExecutionReport, request_id: str | None, image_digest: str
) -> tuple[Action, bool]:
    """Record an executor's final answer; return ``(action, changed)``.

    executing → executed|failed; an ``approved`` action (Archestra path) first moves to
    executing. The same final status again changes nothing (``changed`` False); any other state
    raises ``TransitionError``; an unknown action raises ``NotFoundError``.
    """
    action = get_action(session=session, action_id=report.action_id)
    if action.status == report.status:
        return action, False
    actor = report.executor or "executor"
    audit = {"request_id": request_id, "image_digest": image_digest}
    try:
        if action.status == S.approved:
            transition(
                session, action, S.executing, actor=actor, detail={"via": "webhook"}, **audit
            )
        transition(
            session,
            action,
            report.status,
            actor=actor,
            detail={"event": report.event},
            values={"execution_result": report.result},
            **audit,
        )
    except TransitionError as exc:
        if exc.current_status != report.status:
            raise
        # The same report raced itself (a retrying sender): the first copy won.
        return get_action(session=session, action_id=report.action_id), False
    session.commit()
    return action, True

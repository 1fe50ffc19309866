"""Data access for anomalies and actions (keyword-only arguments, wire models in and out).

Functions that change state commit before returning; ``TransitionError`` from ``workflow``
propagates (answered 409), ``NotFoundError`` is 404, ``FieldError`` is 422.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

from costguard_core import models as wire
from costguard_core.models import ActionStatus as S
from sqlalchemy import delete as sa_delete
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.errors import FieldError, NotFoundError, check_lengths
from costguard_backend.models import Action, Anomaly, Approval, Outbox, RootCause
from costguard_backend.notify.deliver import ANOMALY_ESCALATED
from costguard_backend.outbox import ACTION_APPROVED, APPROVAL_REQUESTED, enqueue
from costguard_backend.policy import Policy, PolicyViolation, check_daily_limit, check_proposal
from costguard_backend.workflow import (
    AuditContext,
    TransitionError,
    bump_version,
    record_audit,
    transition,
)


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
    """Store ``anomaly_in`` unless its id exists; return ``(anomaly, created)``.

    A repeat (the detective re-posts its fingerprints on every pass) returns the stored anomaly
    unchanged, unless it ends later than the stored one: the incident lasted longer than the
    pass that first posted it saw, so its ``end``, figures (USD) and root causes are revised to
    the later pass's (``_revise``; session 11: before, a growing incident kept the impact of its
    first day). Status, start, scope and ``detected_at`` never change. A revision that raises
    the severity tier also enqueues ``anomaly_escalated`` (Slack, ``notify/escalation.py``).
    Raises ``FieldError`` on a field longer than its column."""
    stored = session.get(Anomaly, anomaly_in.id)
    if stored is None:
        values = anomaly_in.model_dump(exclude={"root_causes"})
        check_lengths(Anomaly.__table__, values)  # type: ignore[attr-defined]
        _check_root_causes(anomaly_in)
        session.add(Anomaly(**values, scope_service_name=anomaly_in.scope.get("ServiceName")))
        session.flush()
        _add_root_causes(session, anomaly_in)
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
    elif anomaly_in.end > stored.end:
        _revise(session, stored, anomaly_in, actor, request_id, image_digest)
    return get_anomaly(session=session, anomaly_id=anomaly_in.id), False


#: Fields a later pass revises (the figures of ``AnomalyBase``; root causes apart).
_REVISED = ("end", "expected_cost", "actual_cost", "impact_usd", "severity", "confidence")


def _revise(
    session: Session,
    stored: Anomaly,
    anomaly_in: wire.AnomalyCreate,
    actor: str,
    request_id: str | None,
    image_digest: str,
) -> None:
    """Replace ``stored``'s figures and root causes with ``anomaly_in``'s and audit it as
    ``revise`` (detail: each changed field's ``[before, after]``), in one transaction, with
    the ``anomaly_escalated`` outbox row when the severity tier rises (``_enqueue_escalation``)."""
    _check_root_causes(anomaly_in)
    before = stored.severity
    changed = {
        f: [str(getattr(stored, f)), str(getattr(anomaly_in, f))]
        for f in _REVISED
        if getattr(stored, f) != getattr(anomaly_in, f)
    }
    for f in _REVISED:
        setattr(stored, f, getattr(anomaly_in, f))
    session.execute(sa_delete(RootCause).where(col(RootCause.anomaly_id) == stored.id))
    _add_root_causes(session, anomaly_in)
    record_audit(
        session,
        entity_type="anomaly",
        entity_id=stored.id,
        actor=actor,
        action="revise",
        detail=changed,
        request_id=request_id,
        image_digest=image_digest,
    )
    _enqueue_escalation(session, stored, before)
    session.commit()


def escalation_key(anomaly_id: str, severity: str) -> str:
    """``anomaly-escalated-{anomaly_id}-{severity}``: each tier of an anomaly is announced at most
    once (an id too long for the key column is replaced by its SHA-256)."""
    key = f"anomaly-escalated-{anomaly_id}-{severity}"
    if len(key) > 200:
        key = f"anomaly-escalated-{hashlib.sha256(anomaly_id.encode()).hexdigest()}-{severity}"
    return key


def _enqueue_escalation(session: Session, anomaly: Anomaly, before: str) -> None:
    """Add the ``anomaly_escalated`` row to the revision's transaction if the tier rose above
    ``before`` and this tier was not announced yet. The insert runs in a savepoint: a concurrent
    revision announcing the same tier first loses this notification, never the revision."""
    if wire.severity_rank(anomaly.severity) <= wire.severity_rank(before):
        return
    key = escalation_key(anomaly.id, anomaly.severity)
    announced = select(col(Outbox.id)).where(col(Outbox.idempotency_key) == key)
    if session.scalar(announced) is not None:
        return
    payload = {
        "anomaly_id": anomaly.id,
        "from": before,
        "to": anomaly.severity,
        "impact_usd": str(anomaly.impact_usd),  # repr of the float: never rounded
        "start": anomaly.start.isoformat(),
        "end": anomaly.end.isoformat(),
    }
    try:
        with session.begin_nested():
            enqueue(
                session,
                kind=ANOMALY_ESCALATED,
                action_id=None,
                payload=payload,
                idempotency_key=key,
            )
    except IntegrityError:
        pass  # announced by a concurrent revision


def _check_root_causes(anomaly_in: wire.AnomalyCreate) -> None:
    for i, rc in enumerate(anomaly_in.root_causes):
        check_lengths(RootCause.__table__, rc.model_dump(), f"root_causes[{i}].")  # type: ignore[attr-defined]


def _add_root_causes(session: Session, anomaly_in: wire.AnomalyCreate) -> None:
    for rank, rc in enumerate(anomaly_in.root_causes):
        session.add(RootCause(anomaly_id=anomaly_in.id, rank=rank, **rc.model_dump()))


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
        cause = exists().where(
            col(RootCause.anomaly_id) == col(Anomaly.id), col(RootCause.ServiceName) == service
        )
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


def refuse(
    session: Session,
    violation: PolicyViolation,
    *,
    entity_type: str,
    entity_id: str,
    actor: str,
    request_id: str | None,
    image_digest: str | None,
    extra: dict[str, Any] | None = None,
) -> PolicyViolation:
    """Roll back the caller's work, commit an audit event ``policy_block`` naming the rule, and
    return ``violation`` for the caller to raise."""
    session.rollback()
    record_audit(
        session,
        entity_type=entity_type,
        entity_id=entity_id,
        actor=actor,
        action="policy_block",
        detail={"rule": violation.rule, "message": violation.message, **(extra or {})},
        request_id=request_id,
        image_digest=image_digest,
    )
    session.commit()
    return violation


def create_action(
    *,
    session: Session,
    action_in: wire.ActionCreate,
    actor: str,
    request_id: str | None,
    image_digest: str,
    policy: Policy | None = None,
) -> Action:
    """Store a proposal and submit it for approval: audit ``proposed`` then ``pending_approval``
    and an ``approval_requested`` outbox row, one transaction. Raises ``FieldError`` if the
    anomaly does not exist, ``PolicyViolation`` (422, audited, nothing stored) if the proposal
    breaks a rule of ``policy``."""
    policy = policy or Policy()
    if session.get(Anomaly, action_in.anomaly_id) is None:
        raise FieldError("anomaly_id", f"anomaly {action_in.anomaly_id!r} does not exist")
    values = action_in.model_dump()
    check_lengths(Action.__table__, values)  # type: ignore[attr-defined]
    action = Action(
        **values,
        status=S.proposed.value,
        version=1,
        required_approvals=policy.required_approvals(action_in.risk),
    )
    try:
        check_proposal(policy, session, action)
    except PolicyViolation as exc:
        exc.status_code = 422
        raise refuse(
            session,
            exc,
            entity_type="anomaly",
            entity_id=action_in.anomaly_id,
            actor=actor,
            request_id=request_id,
            image_digest=image_digest,
            extra={"action_type": action_in.action_type, "resource_id": action_in.resource_id},
        ) from exc
    session.add(action)
    session.flush()
    audit: AuditContext = {"request_id": request_id, "image_digest": image_digest}
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
        payload={
            "title": action.title,
            "url": f"/api/v1/actions/{action.id}",
            "required_approvals": action.required_approvals,
        },
        idempotency_key=f"approval-requested-{action.id}",
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
    policy: Policy | None = None,
    before_commit: Callable[[Action], object] | None = None,
) -> Action:
    """Approve (comment ``note``) or reject (reason ``note``) as ``actor``; writes the approval
    row, the audit event and, on the final approval, the ``action_approved`` outbox row in one
    transaction. ``before_commit``, if given, is called with the decided action (its new status)
    just before that commit, to add rows to the same transaction (e.g. ``outbox.enqueue`` of the
    update of the Slack message clicked); it is not called when the decision is refused.

    An action needing N distinct approvers (``required_approvals``) stays ``pending_approval``
    (audit ``approve_partial``) until the N-th; the same approver twice raises
    ``TransitionError("duplicate_approver")``. Raises ``TransitionError`` unless the action is
    pending_approval at its current version, and ``PolicyViolation`` (audited) when the final
    approval would exceed ``max_actions_per_day``."""
    policy = policy or Policy()
    action = get_action(session=session, action_id=action_id)
    if action.status != S.pending_approval:
        target = S.approved if approve else S.rejected
        raise TransitionError("invalid_transition", action.status, target.value)
    previous = set(
        session.scalars(
            select(col(Approval.approver)).where(
                col(Approval.action_id) == action_id, col(Approval.decision) == "approved"
            )
        )
    )
    if actor in previous:
        raise TransitionError("duplicate_approver", action.status, S.approved.value)
    audit: AuditContext = {"request_id": request_id, "image_digest": image_digest}
    if not approve:
        transition(
            session,
            action,
            S.rejected,
            actor=actor,
            detail={"comment": note} if note else None,
            values={"rejected_by": actor, "rejection_reason": note},
            **audit,
        )
        session.add(
            Approval(action_id=action_id, approver=actor, decision="rejected", comment=note)
        )
        if before_commit is not None:
            before_commit(action)
        session.commit()
        return action
    approvers = sorted(previous | {actor})
    if len(approvers) < action.required_approvals:
        bump_version(
            session,
            action,
            actor=actor,
            verb="approve_partial",
            detail={"approvers": approvers, "required": action.required_approvals, "comment": note},
            **audit,
        )
    else:
        try:
            check_daily_limit(policy, session)
        except PolicyViolation as exc:
            raise refuse(
                session, exc, entity_type="action", entity_id=str(action_id), actor=actor, **audit
            ) from exc
        transition(
            session,
            action,
            S.approved,
            actor=actor,
            detail={"approvers": approvers, **({"comment": note} if note else {})},
            values={"approved_by": actor, "approved_at": utcnow()},
            **audit,
        )
        enqueue(
            session,
            kind=ACTION_APPROVED,
            action_id=action_id,
            payload={"approver": actor, "approvers": approvers},
            idempotency_key=f"action-approved-{action_id}",
        )
    session.add(Approval(action_id=action_id, approver=actor, decision="approved", comment=note))
    if before_commit is not None:
        before_commit(action)
    try:
        session.commit()
    except IntegrityError as exc:  # the same approver raced themself in two requests
        session.rollback()
        raise TransitionError("duplicate_approver", action.status, S.approved.value) from exc
    return action

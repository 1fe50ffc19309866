"""Data access for actions (keyword-only arguments, wire models in and out); anomalies are in
``crud_anomalies``.

Functions that change state commit before returning; ``TransitionError`` from ``workflow``
propagates (answered 409), ``NotFoundError`` is 404, ``FieldError`` is 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from costguard_core import models as wire
from costguard_core.models import ActionStatus as S
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend.core.sqltypes import utcnow
from costguard_backend.errors import FieldError, NotFoundError, check_lengths
from costguard_backend.models import Action, Anomaly, Approval
from costguard_backend.outbox import ACTION_APPROVED, APPROVAL_REQUESTED, enqueue
from costguard_backend.policy import Policy, PolicyViolation, check_daily_limit, check_proposal
from costguard_backend.workflow import (
    AuditContext,
    TransitionError,
    bump_version,
    record_audit,
    transition,
)


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

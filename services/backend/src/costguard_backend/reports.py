"""Applying an executor's signed report (the inbound webhook), exactly once.

The executor's ``result`` may carry ``rolled_back: true`` (a failed action whose changes were
undone: executing → failed → rolled_back), ``tool_calls`` (each stored as a ``tool_call`` audit
event with its ``before``/``after`` resource state) and ``image_digest`` (the executing
process's image, checked against the policy's ``allowed_image_digests`` whenever the report
claims a change; the executor checks the same list itself before executing).

Replays: each applied delivery's signature is stored (``webhook_delivery``). The same delivery
again, or a fresh delivery of the outcome the action already has, changes nothing (``changed``
False); a stored delivery whose outcome no longer matches the action is refused
(``ReplayError``, 409), as is any report the state machine refuses (``TransitionError``).
"""

from __future__ import annotations

import hashlib

from costguard_core import models as wire
from costguard_core.models import ActionStatus as S
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend.crud import get_action, refuse
from costguard_backend.dispatch import ACTION_FINISHED
from costguard_backend.models import Action, WebhookDelivery
from costguard_backend.outbox import enqueue
from costguard_backend.policy import Policy, PolicyViolation, check_image_digest
from costguard_backend.workflow import AuditContext, TransitionError, record_audit, transition


class ReplayError(Exception):
    """A delivery seen before whose outcome the action no longer has (answered 409)."""

    def detail(self) -> dict[str, str]:
        return {"error": "replayed_delivery", "message": str(self)}


def outcome(report: wire.ExecutionReport) -> S:
    """The terminal state a report asks for (``rolled_back`` when a failure was undone)."""
    if report.status == "failed" and report.result.get("rolled_back") is True:
        return S.rolled_back
    return S(report.status)


def apply_report(
    *,
    session: Session,
    report: wire.ExecutionReport,
    signature: str,
    raw_body: bytes,
    request_id: str | None,
    image_digest: str,
    policy: Policy | None = None,
) -> tuple[Action, bool]:
    """Record an executor's final answer; return ``(action, changed)`` (see the module doc).
    Raises ``NotFoundError``, ``TransitionError``, ``ReplayError`` or ``PolicyViolation``."""
    action = get_action(session=session, action_id=report.action_id)
    wanted = outcome(report)
    seen = session.scalars(
        select(WebhookDelivery).where(col(WebhookDelivery.signature) == signature)
    ).first()
    if seen is not None or action.status == wanted:
        if action.status == wanted:
            return action, False
        raise ReplayError(f"delivery already applied; action {action.id} is now {action.status}")
    actor = report.executor or "executor"
    digest = report.result.get("image_digest")
    try:
        if _acted(report):
            check_image_digest(policy or Policy(), digest)
    except PolicyViolation as exc:
        raise refuse(
            session,
            exc,
            entity_type="action",
            entity_id=str(action.id),
            actor=actor,
            request_id=request_id,
            image_digest=digest,
        ) from exc
    audit: AuditContext = {"request_id": request_id, "image_digest": image_digest}
    try:
        if action.status == S.approved:
            transition(
                session, action, S.executing, actor=actor, detail={"via": "webhook"}, **audit
            )
        _record_tool_calls(session, action, report, actor, request_id, digest or image_digest)
        steps = [S.failed, S.rolled_back] if wanted == S.rolled_back else [wanted]
        for step in steps:
            transition(
                session,
                action,
                step,
                actor=actor,
                detail={"event": report.event, "executor_image_digest": digest},
                values={"execution_result": report.result},
                **audit,
            )
    except TransitionError as exc:
        if exc.current_status != wanted:
            raise
        # The same report raced itself (a retrying sender): the first copy won.
        return get_action(session=session, action_id=report.action_id), False
    session.add(
        WebhookDelivery(
            signature=signature,
            body_sha256=hashlib.sha256(raw_body).hexdigest(),
            action_id=action.id,
        )
    )
    enqueue(
        session,
        kind=ACTION_FINISHED,
        action_id=action.id,
        payload={"status": wanted.value, "summary": str(report.result.get("summary", ""))[:500]},
        idempotency_key=f"action-finished-{action.id}",
    )
    try:
        session.commit()
    except IntegrityError:  # an identical delivery committed first
        session.rollback()
        return get_action(session=session, action_id=report.action_id), False
    return action, True


def _acted(report: wire.ExecutionReport) -> bool:
    """Whether the report claims a change: ``executed``, or any real (non-dry-run) tool call.
    A failure that touched nothing (e.g. an executor that refused itself because its image is
    not allowed) is accepted from any image, so the action does not hang in ``executing``."""
    if report.status == "executed":
        return True
    calls = report.result.get("tool_calls", [])
    return any(isinstance(c, dict) and c.get("dry_run") is False for c in calls)


def _record_tool_calls(
    session: Session,
    action: Action,
    report: wire.ExecutionReport,
    actor: str,
    request_id: str | None,
    digest: str | None,
) -> None:
    for call in report.result.get("tool_calls", []):
        if not isinstance(call, dict):
            continue
        record_audit(
            session,
            entity_type="action",
            entity_id=str(action.id),
            actor=actor,
            action="tool_call",
            detail={k: v for k, v in call.items() if k not in ("before", "after")},
            before=call.get("before") if isinstance(call.get("before"), dict) else None,
            after=call.get("after") if isinstance(call.get("after"), dict) else None,
            request_id=call.get("request_id") or request_id,
            image_digest=digest,
        )

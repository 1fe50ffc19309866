"""The action state machine: the only place that changes ``action.status``.

```
proposed ─▶ pending_approval ─▶ approved ─▶ executing ─▶ executed
                   │                │            └────▶ failed ─▶ rolled_back
                   └─▶ rejected     └─▶ cancelled
```
``transition`` checks the move, updates the row with an optimistic lock (``UPDATE … WHERE id=? AND
version=?``), and writes the audit event in the caller's transaction; the caller commits (together
with any approval or outbox row), so the state change, its audit trail and its notification land
together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypedDict

from costguard_core.models import ActionStatus as S
from sqlalchemy import event, update
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.audit import remember_order
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.models import Action, AuditEvent

ALLOWED: dict[S, frozenset[S]] = {
    S.proposed: frozenset({S.pending_approval}),
    S.pending_approval: frozenset({S.approved, S.rejected}),
    S.approved: frozenset({S.executing, S.cancelled}),
    S.executing: frozenset({S.executed, S.failed}),
    S.failed: frozenset({S.rolled_back}),
    S.rejected: frozenset(),
    S.cancelled: frozenset(),
    S.executed: frozenset(),
    S.rolled_back: frozenset(),
}

#: Audit ``action`` verb recorded for a move into each state.
VERBS: dict[S, str] = {
    S.proposed: "propose",
    S.pending_approval: "request_approval",
    S.approved: "approve",
    S.rejected: "reject",
    S.cancelled: "cancel",
    S.executing: "dispatch",
    S.executed: "complete",
    S.failed: "fail",
    S.rolled_back: "roll_back",
}


class TransitionError(Exception):
    """A move the machine refuses (answered as 409).

    ``error`` is ``"invalid_transition"`` (the move is not allowed from ``current_status``) or
    ``"concurrent_update"`` (another writer changed the action first).
    """

    def __init__(self, error: str, current_status: str, requested: str) -> None:
        super().__init__(f"{error}: {current_status} -> {requested}")
        self.error = error
        self.current_status = current_status
        self.requested = requested

    def detail(self) -> dict[str, str]:
        return {
            "error": self.error,
            "current_status": self.current_status,
            "requested": self.requested,
        }


def can_transition(current: str, to: str) -> bool:
    return S(to) in ALLOWED[S(current)]


class AuditContext(TypedDict):
    """The request-level audit fields, passed on as ``**audit`` to ``record_audit``,
    ``transition``, ``bump_version`` and ``crud.refuse``."""

    request_id: str | None
    image_digest: str | None


def record_audit(
    session: Session,
    *,
    entity_type: str,
    entity_id: str,
    actor: str,
    action: str,
    request_id: str | None,
    image_digest: str | None,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event to the session's transaction (not committed here); it is chained
    (``audit.py``) when flushed. ``before``/``after`` are a resource's state around a tool call."""
    audit = AuditEvent(
        entity_type=entity_type,
        entity_id=entity_id,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=_as_stored(detail) or {},
        before=_as_stored(before),
        after=_as_stored(after),
        image_digest=image_digest,
        request_id=request_id,
    )
    session.add(audit)
    remember_order(session, audit)
    return audit


def _as_stored(doc: Mapping[str, Any] | None) -> dict[str, Any] | None:
    # Hash exactly what the JSON column gives back (Decimals and dates become strings).
    return None if doc is None else json.loads(json.dumps(dict(doc), default=str))


def transition(
    session: Session,
    action: Action,
    to: S | str,
    *,
    actor: str,
    request_id: str | None,
    image_digest: str | None,
    detail: Mapping[str, Any] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Action:
    """Move ``action`` to ``to``, also setting ``values`` (e.g. ``approved_by``), bump ``version``
    and add the audit event. Does not commit.

    Raises ``TransitionError`` when the move is not allowed from the action's current status, or
    when the row's version no longer matches (a concurrent writer won); the caller must roll back.
    """
    to = S(to)
    current = S(action.status)
    if to not in ALLOWED[current]:
        raise TransitionError("invalid_transition", current.value, to.value)
    now = utcnow()
    result = session.execute(
        update(Action)
        .where(col(Action.id) == action.id, col(Action.version) == action.version)
        .values(status=to.value, version=action.version + 1, updated_at=now, **dict(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        fresh = session.get(Action, action.id, populate_existing=True)
        status = fresh.status if fresh else "deleted"
        error = (
            "invalid_transition"
            if fresh and not can_transition(status, to)
            else "concurrent_update"
        )
        raise TransitionError(error, status, to.value)
    record_audit(
        session,
        entity_type="action",
        entity_id=str(action.id),
        actor=actor,
        action=VERBS[to],
        from_status=current.value,
        to_status=to.value,
        detail=detail,
        request_id=request_id,
        image_digest=image_digest,
    )
    session.info.setdefault("transitions", []).append((current.value, to.value))
    session.flush()
    session.refresh(action)
    return action


def bump_version(
    session: Session,
    action: Action,
    *,
    actor: str,
    verb: str,
    request_id: str | None,
    image_digest: str | None,
    detail: Mapping[str, Any] | None = None,
) -> Action:
    """Record a step that keeps the status (e.g. the first of two approvals) under the same
    optimistic lock as ``transition``; raises ``TransitionError("concurrent_update")``."""
    result = session.execute(
        update(Action)
        .where(col(Action.id) == action.id, col(Action.version) == action.version)
        .values(version=action.version + 1, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        fresh = session.get(Action, action.id, populate_existing=True)
        raise TransitionError("concurrent_update", fresh.status if fresh else "deleted", verb)
    record_audit(
        session,
        entity_type="action",
        entity_id=str(action.id),
        actor=actor,
        action=verb,
        from_status=action.status,
        to_status=action.status,
        detail=detail,
        request_id=request_id,
        image_digest=image_digest,
    )
    session.flush()
    session.refresh(action)
    return action


@event.listens_for(Session, "after_commit")
def _count_committed(session: Session) -> None:
    # Metrics count transitions that were committed, not ones later rolled back.
    for from_status, to_status in session.info.pop("transitions", []):
        metrics.ACTION_TRANSITIONS.labels(from_status, to_status).inc()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop("transitions", None)

"""Data access for anomalies (keyword-only arguments, wire models in and out): the detective's
posts, their revisions, and the ``anomaly_escalated`` outbox row a revision raising the severity
tier writes in its own transaction.

``NotFoundError`` is 404, ``FieldError`` is 422.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from costguard_core import models as wire
from sqlalchemy import delete as sa_delete
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.errors import NotFoundError, check_lengths
from costguard_backend.models import Anomaly, AuditEvent, Outbox, RootCause
from costguard_backend.notify.deliver import ANOMALY_ESCALATED
from costguard_backend.outbox import enqueue
from costguard_backend.workflow import record_audit


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
    the severity tier above every tier the user was told (the creation tier, tiers announced
    before) also enqueues ``anomaly_escalated`` (Slack, ``notify/escalation.py``).
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
    ``before`` and above every tier the user was told (``_told_tier``), announced from that told
    tier. The insert runs in a savepoint: a concurrent revision announcing the same tier first
    loses this notification, never the revision."""
    if wire.severity_rank(anomaly.severity) <= wire.severity_rank(before):
        return
    told = _told_tier(session, anomaly.id, before)
    if wire.severity_rank(anomaly.severity) <= wire.severity_rank(told):
        return
    payload = {
        "anomaly_id": anomaly.id,
        "from": told,
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
                idempotency_key=escalation_key(anomaly.id, anomaly.severity),
            )
    except IntegrityError:
        pass  # announced by a concurrent revision


def _told_tier(session: Session, anomaly_id: str, default: str) -> str:
    """The highest tier the user was told of ``anomaly_id``: its creation tier (the ``create``
    audit event's ``severity``) or a tier an ``anomaly_escalated`` row announced (its key),
    whichever ranks higher; ``default`` stands for the creation tier if no event records it.
    Derived from stored rows, so no column keeps it."""
    created = session.scalars(
        select(col(AuditEvent.detail)).where(
            col(AuditEvent.entity_type) == "anomaly",
            col(AuditEvent.entity_id) == anomaly_id,
            col(AuditEvent.action) == "create",
        )
    ).first()
    keys = {escalation_key(anomaly_id, tier): tier for tier in wire.SEVERITIES}
    announced = session.scalars(
        select(col(Outbox.idempotency_key)).where(col(Outbox.idempotency_key).in_(list(keys)))
    )
    tiers = [str((created or {}).get("severity", default)), *(keys[k] for k in announced if k)]
    return max(tiers, key=wire.severity_rank)


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

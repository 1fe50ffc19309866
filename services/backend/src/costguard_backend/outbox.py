"""Transactional outbox: notifications written with the change they announce, delivered later.

Kinds:
- ``approval_requested`` (written when an action reaches pending_approval): delivered as a log
  line (Slack comes later).
- ``action_approved`` (written by the approval): with ``ARCHESTRA_API_URL`` set, POST
  ``{ARCHESTRA_API_URL}/api/v1/webhooks/workflow/resume`` ``{"event":"action_review",
  "action_id":…,"status":"approved","approver":…}``; without it (embedded orchestrator) move the
  action approved → executing (actor ``orchestrator``) and POST its ``ActionPublic`` JSON to
  ``{EXECUTOR_URL}/execute``.

Delivery is at-least-once: a worker claims a due row by pushing ``next_attempt_at`` forward (a
lease, so several backend replicas can share the table), then marks it delivered, or retries with
exponential backoff, or after ``OUTBOX_MAX_ATTEMPTS`` marks it ``dead`` (an embedded dispatch that
dies also fails its action, so nothing waits forever in ``executing``).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from costguard_core.models import ActionStatus as S
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.core.config import Settings
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.models import Action, Outbox
from costguard_backend.workflow import TransitionError, transition

logger = logging.getLogger(__name__)

APPROVAL_REQUESTED = "approval_requested"
ACTION_APPROVED = "action_approved"
ORCHESTRATOR = "orchestrator"


class DeliveryError(Exception):
    """This attempt failed and should be retried."""


def enqueue(
    session: Session, *, kind: str, action_id: int | None, payload: dict[str, Any]
) -> Outbox:
    """Add an outbox row to the caller's transaction (not committed here)."""
    row = Outbox(kind=kind, action_id=action_id, payload=payload)
    session.add(row)
    return row


def pending_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(col(Outbox.status) == "pending")) or 0


class OutboxWorker:
    """Delivers due outbox rows; ``start()`` runs it in a daemon thread every
    ``OUTBOX_POLL_INTERVAL_S`` seconds (or at once after ``wake()``)."""

    def __init__(self, engine: sa.Engine, settings: Settings, http: httpx.Client | None = None):
        self.engine = engine
        self.settings = settings
        self.http = http or httpx.Client(timeout=settings.OUTBOX_HTTP_TIMEOUT_S)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="costguard-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=self.settings.OUTBOX_HTTP_TIMEOUT_S + 5)
        self.http.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
            except Exception:  # keep the worker alive; the row stays pending for the next round
                logger.exception("outbox round failed")
            self._wake.wait(self.settings.OUTBOX_POLL_INTERVAL_S)
            self._wake.clear()

    def deliver_due(self, now: datetime | None = None) -> int:
        """Attempt every due pending row once; return how many were attempted."""
        now = now or utcnow()
        with Session(self.engine) as session:
            due = session.scalars(
                select(Outbox.id)
                .where(col(Outbox.status) == "pending", col(Outbox.next_attempt_at) <= now)
                .order_by(col(Outbox.id))
                .limit(100)
            ).all()
        return sum(1 for row_id in due if self._attempt(row_id, now))

    def _claim(self, session: Session, row_id: int, now: datetime) -> bool:
        lease = now + timedelta(seconds=self.settings.OUTBOX_HTTP_TIMEOUT_S * 3 + 30)
        claimed = session.execute(
            update(Outbox)
            .where(col(Outbox.id) == row_id, col(Outbox.status) == "pending")
            .where(col(Outbox.next_attempt_at) <= now)
            .values(next_attempt_at=lease, attempts=Outbox.attempts + 1)  # type: ignore[operator]
        )
        session.commit()
        return claimed.rowcount == 1  # type: ignore[attr-defined]

    def _attempt(self, row_id: int, now: datetime) -> bool:
        with Session(self.engine, expire_on_commit=False) as session:
            if not self._claim(session, row_id, now):
                return False
            row = session.get(Outbox, row_id)
            assert row is not None
            try:
                note = self._deliver(session, row)
            except (DeliveryError, httpx.HTTPError) as exc:
                self._failed(session, row, f"{type(exc).__name__}: {exc}")
                return True
            row.status, row.delivered_at, row.last_error = "delivered", utcnow(), note
            session.add(row)
            session.commit()
            metrics.WEBHOOK_DELIVERIES.labels("outbound", row.kind, "delivered").inc()
            return True

    def _failed(self, session: Session, row: Outbox, error: str) -> None:
        session.rollback()
        row = session.get(Outbox, row.id, populate_existing=True) or row
        row.last_error = error[:2000]
        dead = row.attempts >= self.settings.OUTBOX_MAX_ATTEMPTS
        if dead:
            row.status = "dead"
            logger.error(
                "outbox %s (%s) dead after %s attempts: %s", row.id, row.kind, row.attempts, error
            )
        else:
            delay = min(
                self.settings.OUTBOX_BACKOFF_BASE_S * 2 ** (row.attempts - 1),
                self.settings.OUTBOX_BACKOFF_MAX_S,
            )
            row.next_attempt_at = utcnow() + timedelta(seconds=delay)
            logger.warning(
                "outbox %s (%s) attempt %s failed, retry in %.1fs: %s",
                row.id,
                row.kind,
                row.attempts,
                delay,
                error,
            )
        session.add(row)
        session.commit()
        metrics.WEBHOOK_DELIVERIES.labels("outbound", row.kind, "dead" if dead else "retry").inc()
        if dead:
            self._give_up(session, row)

    # -- kinds ------------------------------------------------------------------------------
    def _deliver(self, session: Session, row: Outbox) -> str | None:
        """Deliver ``row``; return a note kept in ``last_error`` (why nothing was sent) or None."""
        if row.kind == APPROVAL_REQUESTED:
            logger.info(
                "approval requested: action %s %r (%s)",
                row.action_id,
                row.payload.get("title"),
                row.payload.get("url"),
            )
            return None
        if row.kind != ACTION_APPROVED:
            raise DeliveryError(f"unknown outbox kind {row.kind!r}")
        if self.settings.ARCHESTRA_API_URL:
            self._post(
                f"{self.settings.ARCHESTRA_API_URL.rstrip('/')}/api/v1/webhooks/workflow/resume",
                {
                    "event": "action_review",
                    "action_id": row.action_id,
                    "status": "approved",
                    "approver": row.payload.get("approver"),
                },
                self.settings.ARCHESTRA_API_TOKEN,
                row,
            )
            return None
        return self._dispatch_embedded(session, row)

    def _dispatch_embedded(self, session: Session, row: Outbox) -> str | None:
        action = session.get(Action, row.action_id, populate_existing=True)
        if action is None:
            raise DeliveryError(f"action {row.action_id} does not exist")
        if action.status == S.approved:
            try:
                transition(
                    session,
                    action,
                    S.executing,
                    actor=ORCHESTRATOR,
                    request_id=f"outbox-{row.id}",
                    image_digest=self.settings.IMAGE_DIGEST,
                    detail={"outbox_id": row.id, "executor_url": self.settings.EXECUTOR_URL},
                )
                session.commit()
            except TransitionError as exc:
                raise DeliveryError(str(exc)) from exc
        if action.status != S.executing:
            # Already reported (an earlier attempt got through) or cancelled: nothing to send.
            return f"not sent: action is {action.status}"
        body = action.to_public().model_dump(mode="json")
        self._post(
            f"{self.settings.EXECUTOR_URL.rstrip('/')}/execute",
            body,
            self.settings.EXECUTOR_TOKEN,
            row,
        )
        return None

    def _post(self, url: str, body: dict[str, Any], token: str | None, row: Outbox) -> None:
        headers = {"X-Request-ID": f"outbox-{row.id}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        resp = self.http.post(url, json=body, headers=headers)
        if not resp.is_success:
            raise DeliveryError(f"POST {url} answered {resp.status_code}: {resp.text[:300]}")

    def _give_up(self, session: Session, row: Outbox) -> None:
        if row.kind != ACTION_APPROVED or self.settings.ARCHESTRA_API_URL:
            return
        action = session.get(Action, row.action_id, populate_existing=True)
        if action is None or action.status != S.executing:
            return
        try:
            transition(
                session,
                action,
                S.failed,
                actor=ORCHESTRATOR,
                request_id=f"outbox-{row.id}",
                image_digest=self.settings.IMAGE_DIGEST,
                detail={"outbox_id": row.id},
                values={"execution_result": {"error": "dispatch failed", "detail": row.last_error}},
            )
            session.commit()
        except TransitionError:
            pass  # the executor reported meanwhile: its answer stands

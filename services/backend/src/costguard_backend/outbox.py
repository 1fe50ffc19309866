"""Transactional outbox: notifications written with the change they announce, delivered later
(what each kind does: ``dispatch.py``).

Every row has a unique ``idempotency_key`` sent with each attempt. Delivery is at-least-once: a
worker claims a due row by pushing ``next_attempt_at`` forward (a lease, so several backend
replicas can share the table and a killed worker's row comes due again), then marks it
delivered, or retries with exponential backoff (``OUTBOX_BACKOFF_BASE_S`` · 2^(attempt-1), at
most ``OUTBOX_BACKOFF_MAX_S``), or after ``OUTBOX_MAX_ATTEMPTS`` marks it ``dead``. A receiver
that keeps the keys it has seen therefore acts exactly once per key. Slack keeps no keys, so a
Slack row's second and later attempts first look for the key in the channel history
(``notify.deliver.send_once``) and keep a message an earlier attempt posted.

On PostgreSQL a claim or a delivery waits at most one lease for another worker's row lock, and
holds its own at most one lease idle (``core.db.bound_row_locks``: the server ends a worker
transaction idle that long, so a worker whose host died mid-post frees its rows after one
lease). Giving up, or being ended, ends that row's attempt only, logged at WARNING: the row
stays pending, is tried again next round (not claimed) or after its lease (claimed), and the
round goes on.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import sqlalchemy as sa
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.core.config import Settings
from costguard_backend.core.db import bound_row_locks, outbox_lease_s
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.dispatch import (
    ACTION_APPROVED,
    ACTION_FINISHED,
    APPROVAL_REQUESTED,
    DeliveryError,
    Dispatcher,
)
from costguard_backend.models import Outbox

logger = logging.getLogger(__name__)

__all__ = [
    "ACTION_APPROVED",
    "ACTION_FINISHED",
    "APPROVAL_REQUESTED",
    "OutboxWorker",
    "enqueue",
    "pending_count",
]


def enqueue(
    session: Session,
    *,
    kind: str,
    action_id: int | None,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
) -> Outbox:
    """Add an outbox row to the caller's transaction (not committed here). ``idempotency_key``
    defaults to ``{kind}-{uuid4}``; a key already used makes the commit fail (IntegrityError)."""
    key = idempotency_key or f"{kind}-{uuid.uuid4().hex}"
    row = Outbox(kind=kind, action_id=action_id, payload=payload, idempotency_key=key)
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
        self.dispatcher = Dispatcher(settings, self.http)
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
            # ``Outbox.id`` is ``int | None`` only for unsaved rows; a stored primary key is an int.
            due = cast(
                "Sequence[int]",
                session.scalars(
                    select(col(Outbox.id))
                    .where(col(Outbox.status) == "pending", col(Outbox.next_attempt_at) <= now)
                    .order_by(col(Outbox.id))
                    .limit(100)
                ).all(),
            )
        return sum(1 for row_id in due if self._attempt(row_id, now))

    def _claim(self, session: Session, row_id: int, now: datetime) -> bool:
        lease = now + timedelta(seconds=outbox_lease_s(self.settings))
        # The UPDATE waits for another worker's lock on the row (a delivery locks rows until its
        # commit): at most one lease, as a delivery's lock waits, for a host that died holding
        # one keeps it until the server notices (hours).
        bound_row_locks(self.settings, session)
        claimed = session.execute(
            update(Outbox)
            .where(col(Outbox.id) == row_id, col(Outbox.status) == "pending")
            .where(col(Outbox.next_attempt_at) <= now)
            .values(next_attempt_at=lease, attempts=col(Outbox.attempts) + 1)
        )
        session.commit()
        return claimed.rowcount == 1  # type: ignore[attr-defined]

    def _attempt(self, row_id: int, now: datetime) -> bool:
        # A lock wait that gave up (``bound_row_locks``) ends this row's attempt only, rolled
        # back: the row stays pending, due again next round (not claimed) or after its lease.
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                if not self._claim(session, row_id, now):
                    return False
            except sa.exc.OperationalError as exc:
                if not _lock_timeout(exc):
                    raise
                logger.warning(
                    "outbox %s not claimed: its row stayed locked for one lease (another worker "
                    "mid-delivery, or one whose host died); tried again next round",
                    row_id,
                )
                return False
            row = session.get(Outbox, row_id)
            assert row is not None
            kind, attempt = row.kind, row.attempts  # for the log: not read again after an error
            try:
                self._deliver(session, row)
            except sa.exc.DBAPIError as exc:
                if _lock_timeout(exc):
                    logger.warning(
                        "outbox %s (%s) attempt %s: a row lock stayed taken for one lease "
                        "(another worker mid-delivery, or one whose host died); retried after "
                        "its lease",
                        row_id,
                        kind,
                        attempt,
                    )
                elif _idle_timeout(exc):
                    logger.warning(
                        "outbox %s (%s) attempt %s: its transaction was idle for one lease (a "
                        "call slower than the lease) and the server ended it; retried after "
                        "its lease (a Slack message it posted is then found in the channel "
                        "history, where the bot may read it, and not posted again)",
                        row_id,
                        kind,
                        attempt,
                    )
                else:
                    raise
            return True

    def _deliver(self, session: Session, row: Outbox) -> None:
        try:
            note = self.dispatcher.deliver(session, row)
        except (DeliveryError, httpx.HTTPError) as exc:
            self._failed(session, row, f"{type(exc).__name__}: {exc}")
            return
        row.status, row.delivered_at, row.last_error = "delivered", utcnow(), note
        session.add(row)
        session.commit()
        metrics.WEBHOOK_DELIVERIES.labels("outbound", row.kind, "delivered").inc()

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
            self.dispatcher.give_up(session, row)


def _lock_timeout(exc: sa.exc.DBAPIError) -> bool:
    """``exc`` is PostgreSQL's ``lock_not_available``: a ``lock_timeout`` ran out."""
    return getattr(exc.orig, "sqlstate", None) == "55P03"


def _idle_timeout(exc: sa.exc.DBAPIError) -> bool:
    """``exc`` is PostgreSQL's ``idle_in_transaction_session_timeout``: the server ended this
    transaction's session after one lease idle (``core.db.bound_row_locks``)."""
    return getattr(exc.orig, "sqlstate", None) == "25P03"

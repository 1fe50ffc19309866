"""What each outbox kind does when delivered (the worker in ``outbox.py`` decides when).

- ``approval_requested``: Slack approval request when ``SLACK_BOT_TOKEN`` is set, else a log line.
- ``action_finished``: Slack result message (or a log line), written with the final report.
- ``slack_digest``, ``slack_response``, ``anomaly_escalated`` (a revision raised an anomaly's
  severity): Slack only, see ``notify/deliver.py``.
- ``action_approved``: with ``ARCHESTRA_API_URL`` set and ``ARCHESTRA_MODE=resume`` (the seed's
  contract), ``POST {url}/api/v1/webhooks/workflow/resume`` ``{"event":"action_review",
  "action_id","status":"approved","approver"}``; with ``ARCHESTRA_MODE=a2a`` Archestra's agent
  trigger ``POST {url}/v1/a2a/{ARCHESTRA_AGENT_ID}`` (Bearer ``ARCHESTRA_API_TOKEN``) with the
  same fields plus the ``action`` itself (its JSON becomes the agent's message); unset (embedded
  orchestrator): approved → executing, then ``POST {EXECUTOR_URL}/execute`` (``ActionPublic``).

Every HTTP delivery carries ``Idempotency-Key: <row.idempotency_key>`` and ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from costguard_core.models import ActionStatus as S
from sqlmodel import Session

from costguard_backend import metrics
from costguard_backend.core.config import Settings
from costguard_backend.models import Action, Outbox
from costguard_backend.notify import deliver as notify
from costguard_backend.workflow import TransitionError, transition

logger = logging.getLogger(__name__)

APPROVAL_REQUESTED = "approval_requested"
ACTION_APPROVED = "action_approved"
ACTION_FINISHED = "action_finished"
ORCHESTRATOR = "orchestrator"


class DeliveryError(Exception):
    """This attempt failed and should be retried."""


class Dispatcher:
    """Delivers one outbox row; returns a note (why nothing was sent) or None."""

    def __init__(self, settings: Settings, http: httpx.Client) -> None:
        self.settings = settings
        self.http = http

    def deliver(self, session: Session, row: Outbox) -> str | None:
        started, result = time.perf_counter(), "failed"
        try:
            note = self._deliver(session, row)
            result = "delivered"
            return note
        finally:
            elapsed = time.perf_counter() - started
            metrics.OUTBOX_DELIVERY_SECONDS.labels(row.kind, result).observe(elapsed)

    def _deliver(self, session: Session, row: Outbox) -> str | None:
        if row.kind in notify.KINDS:  # Slack kinds (notify/deliver.py)
            try:
                return notify.deliver(self.settings, session, row)
            except notify.NotifyError as exc:
                raise DeliveryError(str(exc)) from exc
        if row.kind != ACTION_APPROVED:
            raise DeliveryError(f"unknown outbox kind {row.kind!r}")
        s = self.settings
        if not s.ARCHESTRA_API_URL:
            return self._dispatch_embedded(session, row)
        body: dict[str, Any] = {
            "event": "action_review",
            "action_id": row.action_id,
            "status": "approved",
            "approver": row.payload.get("approver"),
        }
        base = s.ARCHESTRA_API_URL.rstrip("/")
        if s.ARCHESTRA_MODE == "a2a":
            action = session.get(Action, row.action_id)
            if action is not None:
                body["action"] = action.to_public().model_dump(mode="json")
            self.post(f"{base}/v1/a2a/{s.ARCHESTRA_AGENT_ID}", body, s.ARCHESTRA_API_TOKEN, row)
        else:
            self.post(f"{base}/api/v1/webhooks/workflow/resume", body, s.ARCHESTRA_API_TOKEN, row)
        return None

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
        url = f"{self.settings.EXECUTOR_URL.rstrip('/')}/execute"
        self.post(url, body, self.settings.EXECUTOR_TOKEN, row)
        return None

    def post(self, url: str, body: dict[str, Any], token: str | None, row: Outbox) -> None:
        headers = {
            "X-Request-ID": f"outbox-{row.id}",
            "Idempotency-Key": row.idempotency_key or f"outbox-{row.id}",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        resp = self.http.post(url, json=body, headers=headers)
        if not resp.is_success:
            raise DeliveryError(f"POST {url} answered {resp.status_code}: {resp.text[:300]}")

    def give_up(self, session: Session, row: Outbox) -> None:
        """A dead embedded dispatch fails its action, so nothing waits forever in executing."""
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

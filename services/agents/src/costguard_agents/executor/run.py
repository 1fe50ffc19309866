"""The executor's edges: ``check_executable`` (synchronous, before the 202), the action's
idempotency key, and ``deliver_report`` (signed webhook, retried while the backend is unreachable
or answering 5xx/429). What happens in between is ``flow.build_report``.
"""

from __future__ import annotations

import logging
from typing import Any, get_args

import httpx
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import ActionPublic, ActionStatus, ActionType, ExecutionReport
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from costguard_agents.config import ExecutorSettings

log = logging.getLogger("costguard_agents.executor")

EXECUTOR_NAME = "executor-agent"
#: MCP tool that carries out each action type (the tools are named after the action types).
TOOLS: dict[str, str] = {t: t for t in get_args(ActionType)}
EXECUTABLE = frozenset({ActionStatus.approved, ActionStatus.executing})


class NotExecutableError(Exception):
    """The action may not be executed: wrong status or an action type with no tool."""


def check_executable(action: ActionPublic) -> str:
    """Return the MCP tool name for ``action``; raise ``NotExecutableError`` if its status is not
    ``approved``/``executing`` or its ``action_type`` has no tool."""
    if action.status not in EXECUTABLE:
        raise NotExecutableError(
            f"action {action.id} is {action.status.value}; only approved or executing actions run"
        )
    tool = TOOLS.get(action.action_type)
    if tool is None:
        raise NotExecutableError(f"action {action.id}: no tool for type {action.action_type!r}")
    return tool


def idempotency_key(action: ActionPublic) -> str:
    """One key per action, so a re-dispatched action is executed once by the MCP server (the
    creation time keeps keys distinct when a fresh database reuses action ids)."""
    return f"action-{action.id}-{action.created_at:%Y%m%dT%H%M%S%f}"


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, BackendError) and (exc.status_code >= 500 or exc.status_code == 429)


def deliver_report(report: ExecutionReport, settings: ExecutorSettings) -> dict[str, Any]:
    """POST the signed report to the backend webhook; returns its answer
    (``{"action_id", "status", "changed"}``). Retries connection errors, 5xx and 429 with
    exponential backoff up to ``REPORT_ATTEMPTS`` tries (each try is signed afresh, so its
    timestamp stays inside the 5-minute window); then, or on any other 4xx, raises the last
    ``httpx.TransportError``/``BackendError``."""
    retrying = Retrying(
        stop=stop_after_attempt(settings.REPORT_ATTEMPTS),
        wait=wait_exponential(multiplier=settings.REPORT_BACKOFF_S, max=30),
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    # ExecutorSettings' validator sets the secret (the dev one locally) or refuses to start.
    secret = settings.ARCHESTRA_WEBHOOK_SECRET
    if not secret:
        raise ValueError("ARCHESTRA_WEBHOOK_SECRET is not set")
    with BackendClient(settings.BACKEND_URL, timeout=settings.BACKEND_TIMEOUT_S) as client:
        for attempt in retrying:
            with attempt:
                return client.report_execution(report, secret=secret)
    raise AssertionError("unreachable: tenacity either returns or reraises")

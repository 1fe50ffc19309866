"""The dashboard's only way to the backend: ``costguard_core.client.BackendClient`` over HTTP.

Settings come from the environment (read on every call, so a rerun sees a changed value):
``BACKEND_URL`` (default ``http://127.0.0.1:8000``) and ``COSTGUARD_API_KEY`` (default the local
dev approver key ``dev-approver-key``, which the backend only accepts with ENVIRONMENT=local).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from costguard_core.client import BackendClient, BackendError
from costguard_core.models import ActionPublic, AnomalyPublic, AuditEventPublic

DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
DEFAULT_API_KEY = "dev-approver-key"
#: Page size for list calls; large enough that a dashboard load is a handful of requests.
PAGE_SIZE = 200
#: How many of the newest anomalies / actions the tables show (totals still count everything).
TABLE_ROWS = 200


def backend_url() -> str:
    return os.environ.get("BACKEND_URL", DEFAULT_BACKEND_URL)


def make_client() -> BackendClient:
    """A client for ``BACKEND_URL`` with ``COSTGUARD_API_KEY`` (10 s timeout: never hang a page)."""
    key = os.environ.get("COSTGUARD_API_KEY") or DEFAULT_API_KEY
    return BackendClient(backend_url(), key, timeout=10.0)


@dataclass(frozen=True)
class DashboardData:
    """Everything one page render needs.

    ``open_anomalies`` and ``pending``/``executed`` are complete (all pages followed);
    ``recent_anomalies`` and ``recent_actions`` are the newest :data:`TABLE_ROWS` of each.
    """

    open_anomalies: list[AnomalyPublic]
    recent_anomalies: list[AnomalyPublic]
    recent_actions: list[ActionPublic]
    pending: list[ActionPublic]
    executed: list[ActionPublic]


def _all_pages(list_call: Any, **filters: Any) -> list[Any]:
    out: list[Any] = []
    while True:
        items, count = list_call(limit=PAGE_SIZE, offset=len(out), **filters)
        out.extend(items)
        if not items or len(out) >= count:
            return out


def load_dashboard(client: BackendClient) -> DashboardData:
    """Fetch the page's data. Raises ``BackendError`` or ``httpx.HTTPError`` as the client does."""
    recent_anomalies, _ = client.list_anomalies(limit=TABLE_ROWS, offset=0)
    recent_actions, _ = client.list_actions(limit=TABLE_ROWS, offset=0)
    return DashboardData(
        open_anomalies=_all_pages(client.list_anomalies, status="open"),
        recent_anomalies=recent_anomalies,
        recent_actions=recent_actions,
        pending=_all_pages(client.list_actions, status="pending_approval"),
        executed=_all_pages(client.list_actions, status="executed"),
    )


def action_audit(client: BackendClient, action_id: int) -> list[AuditEventPublic]:
    """The audit trail of one action, oldest first (all pages)."""
    return _all_pages(client.audit_events, entity_type="action", entity_id=str(action_id))


def describe_error(exc: BackendError, verb: str, action_id: int) -> str:
    """A one-line, human message for a failed approve/reject (never a traceback).

    A 409 names the action's current state, e.g. ``Cannot approve action 3: it is already
    'approved'.``; other statuses give the code and the backend's detail.
    """
    detail = exc.detail
    if exc.status_code == 409 and isinstance(detail, dict) and detail.get("current_status"):
        return (
            f"Cannot {verb} action {action_id}: it is already '{detail['current_status']}' "
            f"(only 'pending_approval' actions can be reviewed)."
        )
    if exc.status_code in (401, 403):
        return (
            f"Cannot {verb} action {action_id}: the backend refused this API key "
            f"(HTTP {exc.status_code}); set COSTGUARD_API_KEY to an approver key."
        )
    if exc.status_code == 404:
        return f"Cannot {verb} action {action_id}: it no longer exists."
    return f"Cannot {verb} action {action_id}: backend answered HTTP {exc.status_code}: {detail}"

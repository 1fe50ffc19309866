"""The dashboard's only way to the backend: ``costguard_core.client.BackendClient`` over HTTP.

``BACKEND_URL`` (default ``http://127.0.0.1:8000``) is read on every call, so a rerun sees a
changed value; the API key is the signed-in user's (:mod:`costguard_ui.auth`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

import httpx
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import (
    ActionPublic,
    ActionStatus,
    AnomalyPublic,
    AuditEventPublic,
    CostRow,
    MonitorConfigPublic,
)

from costguard_ui.tables import utc_second

DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
FeedbackKind = Literal["accurate", "not_an_issue", "planned_activity"]
#: Page size for list calls; large enough that a dashboard load is a handful of requests.
PAGE_SIZE = 200
#: How many of the newest anomalies / actions the tables show (totals still count everything).
TABLE_ROWS = 200


def backend_url() -> str:
    return os.environ.get("BACKEND_URL", DEFAULT_BACKEND_URL)


def make_client(api_key: str) -> BackendClient:
    """A client for ``BACKEND_URL`` with ``api_key`` (10 s timeout: never hang a page)."""
    return BackendClient(backend_url(), api_key, timeout=10.0)


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


def latest_cost_day(client: BackendClient) -> date | None:
    """The newest ``ChargePeriodStart`` stored (rows come ordered by day), or ``None``."""
    _, count = client.list_costs(limit=1)
    if count == 0:
        return None
    rows, _ = client.list_costs(limit=1, offset=count - 1)
    return rows[0].ChargePeriodStart if rows else None


def recent_costs(client: BackendClient, days: int) -> list[CostRow]:
    """Every daily row of the ``days`` UTC days ending on the newest stored day."""
    last = latest_cost_day(client)
    if last is None:
        return []
    return client.all_costs(start=last - timedelta(days=days - 1), end=last)


def action_counts(client: BackendClient) -> dict[str, int]:
    """``{status: number of actions}`` for every ``ActionStatus`` (one count query each)."""
    return {s.value: client.list_actions(status=s.value, limit=1)[1] for s in ActionStatus}


def post_feedback(
    api_key: str, anomaly_id: str, kind: FeedbackKind, comment: str | None
) -> dict[str, Any]:
    """``POST /api/v1/anomalies/{id}/feedback`` with ``{"kind", "comment"}``; answers the JSON.

    Raises ``BackendError`` on a non-2xx answer (404 with FastAPI's ``Not Found`` detail while the
    backend has no such route) and ``httpx.HTTPError`` when unreachable.
    """
    url = f"{backend_url().rstrip('/')}/api/v1/anomalies/{anomaly_id}/feedback"
    resp = httpx.post(
        url,
        json={"kind": kind, "comment": comment},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10.0,
    )
    if resp.status_code >= 400:
        try:
            detail = resp.json().get("detail", resp.text)
        except ValueError:
            detail = resp.text
        raise BackendError(resp.status_code, detail, "POST", url)
    return resp.json() if resp.content else {}


def get_monitors(api_key: str) -> MonitorConfigPublic:
    """``GET /api/v1/monitors`` (any role): the stored monitors document, who stored it and when;
    the detector's built-in default, with ``updated_by``/``updated_at`` null, until an admin
    stores one. Raises ``BackendError`` or ``httpx.HTTPError``."""
    with make_client(api_key) as client:
        return client.get_monitors()


def put_monitors(
    api_key: str, document: dict[str, Any] | str, *, if_match: str | None
) -> MonitorConfigPublic:
    """``PUT /api/v1/monitors`` (admin only): replace the whole document if the stored version's
    ETag is still ``if_match`` (``None``: whatever is stored); answers what was stored, with its
    new ``etag``. A ``str`` is the document's YAML text, stored as its ``source`` (comments kept).

    Raises ``BackendError`` (422 whose detail is ``{"field", "message"}`` for a bad document; 412
    whose detail names ``updated_by``/``updated_at`` when someone stored another version since;
    in both cases nothing is stored; 403 for a key that is not an admin's) or ``httpx.HTTPError``.
    """
    with make_client(api_key) as client:
        return client.put_monitors(document, if_match=if_match)


def describe_monitors_error(exc: BackendError) -> str:
    """A human message (markdown) for a refused ``PUT /api/v1/monitors``. A 422 names the first
    bad field, then lists every problem the backend gave, e.g. ``Not saved, nothing changed:
    `monitors[1].min_impact_usd` is not valid.`` / ``- monitors[1].min_impact_usd: Input should
    be greater than or equal to 0``. A 412 (stored since the editor loaded it) says who changed
    the monitors and when, and that the text is kept for Reload."""
    detail = exc.detail
    if exc.status_code == 422 and isinstance(detail, dict) and detail.get("field"):
        problems = str(detail.get("message") or detail["field"]).splitlines()
        listed = "\n".join(f"- {problem}" for problem in problems)
        return f"Not saved, nothing changed: `{detail['field']}` is not valid.\n{listed}"
    if exc.status_code == 412 and isinstance(detail, dict):
        return (
            f"Not saved: {_changed_since(detail)} since you opened them; your text is kept — "
            "copy it, press Reload to load theirs."
        )
    if exc.status_code in (401, 403):
        return (
            f"Not saved: the backend refused this API key (HTTP {exc.status_code}); "
            "changing monitors needs an admin key."
        )
    return f"Not saved: backend answered HTTP {exc.status_code}: {detail}"


def _changed_since(detail: dict[str, Any]) -> str:
    """``the monitors were changed by **alice** at 2024-03-02 04:00:17 UTC`` from a 412's detail
    (``updated_by``/``updated_at`` of the stored version)."""
    who, at = detail.get("updated_by"), detail.get("updated_at")
    if who is None:
        return "the stored monitors are not the version you opened"
    when = f" at {utc_second(datetime.fromisoformat(at))}" if at else ""
    return f"the monitors were changed by **{who}**{when}"


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

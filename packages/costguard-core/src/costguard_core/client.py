"""HTTP client for the CostGuard backend API (``/api/v1``), used by agents, UI and CLI.

Every call raises :class:`BackendError` on a non-2xx answer, carrying the status code and the
backend's ``detail`` (e.g. a 409 carries ``{"error": "invalid_transition", "current_status": …}``).
Pass ``transport=`` (an ``httpx.BaseTransport``, e.g. ``httpx.MockTransport``) in tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar

import httpx

from costguard_core.models import (
    ActionCreate,
    ActionPublic,
    AnomalyCreate,
    AnomalyPublic,
    AuditEventPublic,
    CostHourlyRow,
    CostRow,
    ExecutionReport,
    FeedbackItem,
    FeedbackKind,
    FeedbackPublic,
    IngestResult,
    MonitorConfigPublic,
)
from costguard_core.signing import signed_headers

T = TypeVar("T")


class BackendError(Exception):
    """The backend answered with a non-2xx status."""

    def __init__(self, status_code: int, detail: Any, method: str = "", url: str = "") -> None:
        super().__init__(f"{method} {url} -> {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail


class BackendClient:
    """Thin typed wrapper over the REST API; one instance per caller identity (API key)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> BackendClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kw: Any) -> Any:
        resp = self._http.request(method, path, **kw)
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except ValueError:
                detail = resp.text
            raise BackendError(resp.status_code, detail, method, str(resp.request.url))
        return resp.json() if resp.content else None

    # -- health ---------------------------------------------------------------------------
    def healthz(self) -> dict[str, Any]:
        return self._request("GET", "/healthz")

    # -- costs ----------------------------------------------------------------------------
    def ingest_costs(self, source: str, rows: Iterable[CostRow]) -> IngestResult:
        payload = {"source": source, "rows": [r.model_dump(mode="json") for r in rows]}
        return IngestResult.model_validate(
            self._request("POST", "/api/v1/costs/ingest", json=payload)
        )

    def list_costs(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        limit: int = 50_000,
        offset: int = 0,
    ) -> tuple[list[CostRow], int]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if start:
            params["start"] = start.isoformat()
        if end:
            params["end"] = end.isoformat()
        page = self._request("GET", "/api/v1/costs", params=params)
        return [CostRow.model_validate(r) for r in page["data"]], page["count"]

    def all_costs(self, *, start: date | None = None, end: date | None = None) -> list[CostRow]:
        """Every stored daily row in ``[start, end]``, following pages."""
        return _all_pages(lambda offset: self.list_costs(start=start, end=end, offset=offset))

    def ingest_hourly(self, source: str, rows: Iterable[CostHourlyRow]) -> IngestResult:
        """``POST /api/v1/costs/ingest-hourly``: counts are of hourly rows; the source's daily
        rows for those days and leaves become the sums of their hours (same transaction)."""
        payload = {"source": source, "rows": [r.model_dump(mode="json") for r in rows]}
        return IngestResult.model_validate(
            self._request("POST", "/api/v1/costs/ingest-hourly", json=payload)
        )

    def list_hourly(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50_000,
        offset: int = 0,
    ) -> tuple[list[CostHourlyRow], int]:
        """One page of hourly rows with ``since <= ChargePeriodStart < until`` (aware datetimes,
        UTC), by hour then dimensions, and the total count."""
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if since:
            params["since"] = since.isoformat()
        if until:
            params["until"] = until.isoformat()
        page = self._request("GET", "/api/v1/costs/hourly", params=params)
        return [CostHourlyRow.model_validate(r) for r in page["data"]], page["count"]

    def all_hourly(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[CostHourlyRow]:
        """Every stored hourly row in ``[since, until)``, following pages."""
        return _all_pages(lambda offset: self.list_hourly(since=since, until=until, offset=offset))

    # -- anomalies ------------------------------------------------------------------------
    def create_anomaly(self, anomaly: AnomalyCreate) -> AnomalyPublic:
        """``POST /api/v1/anomalies``; pass an ``AnomalyPost`` to send ``detected_at``."""
        body = anomaly.model_dump(mode="json")
        return AnomalyPublic.model_validate(self._request("POST", "/api/v1/anomalies", json=body))

    def list_anomalies(self, **filters: Any) -> tuple[list[AnomalyPublic], int]:
        page = self._request("GET", "/api/v1/anomalies", params=_clean(filters))
        return [AnomalyPublic.model_validate(a) for a in page["data"]], page["count"]

    def all_anomalies(self, *, page_size: int = 500, **filters: Any) -> list[AnomalyPublic]:
        """Every stored anomaly matching ``filters`` (as ``list_anomalies``), following pages."""
        return _all_pages(
            lambda offset: self.list_anomalies(**filters, limit=page_size, offset=offset)
        )

    def get_anomaly(self, anomaly_id: str) -> AnomalyPublic:
        return AnomalyPublic.model_validate(self._request("GET", f"/api/v1/anomalies/{anomaly_id}"))

    # -- actions --------------------------------------------------------------------------
    def create_action(self, action: ActionCreate) -> ActionPublic:
        body = action.model_dump(mode="json")
        return ActionPublic.model_validate(self._request("POST", "/api/v1/actions", json=body))

    def list_actions(self, **filters: Any) -> tuple[list[ActionPublic], int]:
        page = self._request("GET", "/api/v1/actions", params=_clean(filters))
        return [ActionPublic.model_validate(a) for a in page["data"]], page["count"]

    def get_action(self, action_id: int) -> ActionPublic:
        return ActionPublic.model_validate(self._request("GET", f"/api/v1/actions/{action_id}"))

    def approve(self, action_id: int, comment: str | None = None) -> ActionPublic:
        data = self._request(
            "POST", f"/api/v1/actions/{action_id}/approve", json={"comment": comment}
        )
        return ActionPublic.model_validate(data)

    def reject(self, action_id: int, reason: str) -> ActionPublic:
        data = self._request("POST", f"/api/v1/actions/{action_id}/reject", json={"reason": reason})
        return ActionPublic.model_validate(data)

    # -- audit ----------------------------------------------------------------------------
    def audit_events(self, **filters: Any) -> tuple[list[AuditEventPublic], int]:
        page = self._request("GET", "/api/v1/audit-events", params=_clean(filters))
        return [AuditEventPublic.model_validate(e) for e in page["data"]], page["count"]

    # -- inbound webhook (what an executor or Archestra sends) ----------------------------
    def report_execution(self, report: ExecutionReport, *, secret: str) -> dict[str, Any]:
        body = json.dumps(report.model_dump(mode="json"), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
        return self._request("POST", "/api/v1/archestra/webhook", content=body, headers=headers)

    # -- feedback and monitors (issue #3) -------------------------------------------------
    def submit_feedback(
        self, anomaly_id: str, kind: FeedbackKind, comment: str | None = None
    ) -> FeedbackPublic:
        """``POST /api/v1/anomalies/{id}/feedback``; 404 ``BackendError`` for an unknown anomaly."""
        body = {"kind": kind, "comment": comment}
        data = self._request("POST", f"/api/v1/anomalies/{anomaly_id}/feedback", json=body)
        return FeedbackPublic.model_validate(data)

    def list_feedback(self, since: datetime | None = None) -> list[FeedbackItem]:
        """Every answer given at or after ``since`` (UTC), joined with its anomaly."""
        params = {} if since is None else {"since": since.isoformat()}
        data = self._request("GET", "/api/v1/feedback", params=params)
        return [FeedbackItem.model_validate(item) for item in data]

    def get_monitors(self) -> MonitorConfigPublic:
        """The stored monitors document (the built-in default, unattributed, until one is set)
        and its ``etag``, to pass back as ``put_monitors(..., if_match=)``."""
        return MonitorConfigPublic.model_validate(self._request("GET", "/api/v1/monitors"))

    def put_monitors(
        self, document: dict[str, Any] | str, *, if_match: str | None = None
    ) -> MonitorConfigPublic:
        """Replace the monitors document (admin); answers it with its new ``etag``. A ``str`` is
        sent as YAML text (``application/yaml``), which the backend keeps as ``source``
        (comments included); a dict as JSON. 422 ``BackendError`` naming the bad field
        (``body`` for YAML that does not parse); with ``if_match`` (the ``etag`` read), 412
        ``BackendError`` (``{"error": "precondition_failed", "updated_by", "updated_at",
        "etag", "message"}``) when someone stored another version since, and nothing is stored.
        Without it the last save wins: pass it whenever the document was read first."""
        headers = {} if if_match is None else {"If-Match": if_match}
        if isinstance(document, str):
            headers["Content-Type"] = "application/yaml"
            body: dict[str, Any] = {"content": document.encode("utf-8")}
        else:
            body = {"json": document}
        data = self._request("PUT", "/api/v1/monitors", headers=headers, **body)
        return MonitorConfigPublic.model_validate(data)


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items() if v is not None
    }


def _all_pages(fetch: Callable[[int], tuple[list[T], int]]) -> list[T]:
    """Every item of a paged list: ``fetch(offset)`` returns one page and the total count."""
    out: list[T] = []
    while True:
        page, count = fetch(len(out))
        out.extend(page)
        if not page or len(out) >= count:
            return out

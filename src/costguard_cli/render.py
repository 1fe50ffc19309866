"""Rich tables the CLI prints (demo steps, anomalies, audit trail)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from costguard_core.models import AuditEventPublic
from rich.table import Table


def ingest_table(results: Sequence[tuple[str, Any, int, int]]) -> Table:
    """One row per file: format, line items read, daily rows, days, currency, BilledCost total."""
    table = Table(title="Real exports ingested")
    for col in ("file", "format", "line items", "daily rows", "days", "currency", "BilledCost"):
        table.add_column(col, justify="right" if col not in ("file", "format") else "left")
    for name, daily, n_rows, _inserted in results:
        frame = daily.frame
        days = frame["ChargePeriodStart"].dt.date
        total = sum(frame["BilledCost"], Decimal(0))
        table.add_row(
            name,
            ",".join(sorted({f.format for f in daily.files})),
            f"{daily.rows_read:,}",
            f"{n_rows:,}",
            f"{days.min()} .. {days.max()}",
            ",".join(daily.currencies()),
            f"{total:,.2f}",
        )
    return table


def anomalies_table(anomalies: Sequence[dict[str, Any]], title: str) -> Table:
    """Anomalies as the backend returns them (AnomalyPublic JSON); hourly anomalies (with
    ``detected_at``) get a "raised (UTC)" column first."""
    table = Table(title=title)
    hourly = any("detected_at" in a for a in anomalies)
    if hourly:
        table.add_column("raised (UTC)")
    for col in (
        "start",
        "end",
        "scope",
        "expected",
        "actual",
        "impact USD",
        "severity",
        "top root cause",
    ):
        table.add_column(col)
    for a in anomalies:
        scope = ", ".join(f"{k}={v}" for k, v in a["scope"].items()) or "total spend"
        rc = a["root_causes"][0] if a["root_causes"] else None
        top = (
            (f"{rc['ServiceName']} / {rc['SubAccountId']} / {rc['ResourceId']} ({rc['share']:.0%})")
            if rc
            else "-"
        )
        raised = [str(a.get("detected_at", "-")).replace("T", " ")[:16]] if hourly else []
        table.add_row(
            *raised,
            a["start"],
            a["end"],
            scope,
            f"{a['expected_cost']:,.2f}",
            f"{a['actual_cost']:,.2f}",
            f"{a['impact_usd']:,.2f}",
            a["severity"],
            top,
        )
    return table


def audit_table(events: Sequence[AuditEventPublic]) -> Table:
    table = Table(title="Audit events")
    for col in ("time (UTC)", "actor", "event", "from", "to", "image"):
        table.add_column(col)
    for e in events:
        table.add_row(
            e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.from_status or "-",
            e.to_status or "-",
            e.image_digest or "-",
        )
    return table


def plan_summary(result: dict[str, Any] | None) -> str:
    """One line naming the exact cloud call the executor planned."""
    plan = (result or {}).get("plan") or {}
    request = plan.get("request") or {}
    if "url" in request:
        return f"{request.get('method', '')} {request['url']}".strip()
    return plan.get("summary") or str(result)

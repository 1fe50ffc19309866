"""Pure shaping of backend data into the dashboard's figures and tables (no Streamlit here).

Money: anomaly impacts are USD floats (estimates from the detector); action savings are USD
``Decimal`` and are summed as ``Decimal`` so nothing is rounded before display.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

import pandas as pd
from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.monitors import MonitorsConfig, Thresholds
from costguard_core.models import (
    ActionPublic,
    AnomalyPublic,
    AuditEventPublic,
    CostRow,
    RootCause,
    Severity,
)

SERIOUS = ("high", "critical")
T = TypeVar("T")


@dataclass(frozen=True)
class Summary:
    """Headline figures. ``open_impact_usd``: summed ``impact_usd`` of open anomalies (USD);
    ``executed_monthly_saving_usd``: summed estimated monthly saving of executed actions (USD)."""

    open_anomalies: int
    serious_open: int
    open_impact_usd: float
    pending_approvals: int
    executed_actions: int
    executed_monthly_saving_usd: Decimal


def summarize(
    open_anomalies: list[AnomalyPublic], pending: list[ActionPublic], executed: list[ActionPublic]
) -> Summary:
    return Summary(
        open_anomalies=len(open_anomalies),
        serious_open=sum(1 for a in open_anomalies if a.severity in SERIOUS),
        open_impact_usd=sum((a.impact_usd for a in open_anomalies), 0.0),
        pending_approvals=len(pending),
        executed_actions=len(executed),
        executed_monthly_saving_usd=sum(
            (a.estimated_monthly_saving_usd for a in executed), Decimal(0)
        ),
    )


def usd(amount: float | Decimal) -> str:
    """``$1,234.56`` (display only; the stored value is untouched)."""
    return f"${amount:,.2f}"


def banner_text(summary: Summary) -> str:
    """E.g. ``2 open anomalies — $1,234.56 impact`` (singular for one)."""
    noun = "anomaly" if summary.open_anomalies == 1 else "anomalies"
    return f"{summary.open_anomalies} open {noun} — {usd(summary.open_impact_usd)} impact"


def top_root_cause(causes: list[RootCause]) -> str:
    """The largest root cause as ``ServiceName / ResourceId (share%)``, or ``""`` if none."""
    if not causes:
        return ""
    top = max(causes, key=lambda c: c.impact_usd)
    where = " / ".join(p for p in (top.ServiceName, top.ResourceId or top.RegionId) if p)
    return f"{where} ({top.share:.0%})"


def utc_minute(at: datetime, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """``2024-03-02 04:00 UTC``; a naive value is read as UTC, as the backend stores it."""
    utc = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return f"{utc.strftime(pattern)} UTC"


def utc_second(at: datetime) -> str:
    """``2024-03-02 04:00:17 UTC`` (as :func:`utc_minute`, to the second: two saves within one
    minute read apart)."""
    return utc_minute(at, "%Y-%m-%d %H:%M:%S")


def raised_text(anomaly: AnomalyPublic) -> str:
    """``raised 2024-03-02 04:00 UTC (hourly)`` for an anomaly found on hourly rows (its
    ``detected_at``: the end of the first hour whose data showed it, see :func:`utc_minute`),
    ``""`` for a daily one (``detected_at`` null)."""
    at = anomaly.detected_at
    return "" if at is None else f"raised {utc_minute(at)} (hourly)"


def anomalies_frame(anomalies: list[AnomalyPublic]) -> pd.DataFrame:
    """One row per anomaly: start, end, detected_at (:func:`raised_text`, ``""`` for daily
    anomalies), scope, severity, status, impact_usd, top_root_cause."""
    rows = [
        {
            "id": a.id,
            "start": a.start,
            "end": a.end,
            "detected_at": raised_text(a),
            "scope": ", ".join(f"{k}={v}" for k, v in sorted(a.scope.items())),
            "severity": a.severity,
            "status": a.status,
            "impact_usd": a.impact_usd,
            "top_root_cause": top_root_cause(a.root_causes),
        }
        for a in anomalies
    ]
    columns = [
        "id",
        "start",
        "end",
        "detected_at",
        "scope",
        "severity",
        "status",
        "impact_usd",
        "top_root_cause",
    ]
    return pd.DataFrame(rows, columns=columns)


def actions_frame(actions: list[ActionPublic]) -> pd.DataFrame:
    """One row per action: id, title, status, estimated_monthly_saving_usd (text, exact), ...

    The saving stays a decimal string so a value like ``0.10`` is shown as stored.
    """
    rows = [
        {
            "id": a.id,
            "title": a.title,
            "action_type": a.action_type,
            "status": a.status.value,
            "estimated_monthly_saving_usd": str(a.estimated_monthly_saving_usd),
            "risk": a.risk,
            "approved_by": a.approved_by or "",
        }
        for a in actions
    ]
    columns = [
        "id",
        "title",
        "action_type",
        "status",
        "estimated_monthly_saving_usd",
        "risk",
        "approved_by",
    ]
    return pd.DataFrame(rows, columns=columns)


def audit_frame(events: list[AuditEventPublic]) -> pd.DataFrame:
    """One row per audit event, oldest first: created_at, actor, action, from_status, to_status."""
    rows = [
        {
            "created_at": e.created_at,
            "actor": e.actor,
            "action": e.action,
            "from_status": e.from_status or "",
            "to_status": e.to_status or "",
        }
        for e in events
    ]
    return pd.DataFrame(rows, columns=["created_at", "actor", "action", "from_status", "to_status"])


SEVERITIES = ("critical", "high", "medium", "low")


def severity_counts(open_anomalies: list[AnomalyPublic]) -> dict[str, int]:
    """``{severity: open anomalies}`` for every severity, most severe first (zeros kept)."""
    return {s: sum(1 for a in open_anomalies if a.severity == s) for s in SEVERITIES}


def spend_frame(rows: list[CostRow]) -> pd.DataFrame:
    """Spend per BillingCurrency, ProviderName and ServiceName, largest EffectiveCost first.

    ``BilledCost`` and ``EffectiveCost`` are exact ``Decimal`` sums in the row's currency
    (currencies are never added together); ``days`` counts the UTC days with rows.
    """
    sums: dict[tuple[str, str, str], list] = {}
    for r in rows:
        entry = sums.setdefault(
            (r.BillingCurrency, r.ProviderName, r.ServiceName), [Decimal(0), Decimal(0), set()]
        )
        entry[0] += r.BilledCost
        entry[1] += r.EffectiveCost
        entry[2].add(r.ChargePeriodStart)
    records = [
        {
            "BillingCurrency": cur,
            "ProviderName": provider,
            "ServiceName": service,
            "BilledCost": billed,
            "EffectiveCost": effective,
            "days": len(days),
        }
        for (cur, provider, service), (billed, effective, days) in sums.items()
    ]
    records.sort(key=lambda r: (r["BillingCurrency"], -r["EffectiveCost"]))
    columns = [
        "BillingCurrency",
        "ProviderName",
        "ServiceName",
        "BilledCost",
        "EffectiveCost",
        "days",
    ]
    return pd.DataFrame(records, columns=columns)


def daily_provider_spend(rows: list[CostRow], currency: str) -> pd.DataFrame:
    """EffectiveCost per UTC day and ProviderName in one ``currency`` (floats, for charting)."""
    frame = pd.DataFrame(
        [
            {"day": r.ChargePeriodStart, "ProviderName": r.ProviderName, "cost": r.EffectiveCost}
            for r in rows
            if r.BillingCurrency == currency
        ],
        columns=["day", "ProviderName", "cost"],
    )
    grouped = frame.groupby(["day", "ProviderName"], as_index=False)["cost"].sum()
    return grouped.assign(cost=grouped["cost"].astype(float))


def number(value: float) -> str:
    """``10``, ``0.25``, ``10,000``: a threshold as written in the monitors document."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def tiers_text(tiers: dict[Severity, float]) -> str:
    """``medium 100 / high 1,000 / critical 10,000`` (USD lower bounds, in the given order)."""
    return " / ".join(f"{name} {number(bound)}" for name, bound in tiers.items())


def _set_or_default(
    value: T | None, default: T, fmt: Callable[[T], str], mark: str = "default"
) -> str:
    return fmt(value) if value is not None else f"{fmt(default)} ({mark})"


def monitors_frame(config: MonitorsConfig, defaults: DetectorConfig) -> pd.DataFrame:
    """One row per monitor family, then one per value given its own thresholds (``values``;
    dimension shown as ``ServiceName = Amazon EC2``): min_impact_usd (USD), min_impact_pct
    (fraction of expected spend), combine, severity_tiers_usd, all as text. A value a family
    leaves unset is the detector's (``defaults``, normally ``DetectorConfig()``), marked
    ``(default)``; one a value leaves unset is its family's, marked with the family's dimension
    (``0.25 (ServiceName)``)."""

    def row(name: str, own: Thresholds, under: DetectorConfig, mark: str) -> dict[str, str]:
        return {
            "dimension": name,
            "min_impact_usd": _set_or_default(
                own.min_impact_usd, under.min_impact_usd, number, mark
            ),
            "min_impact_pct": _set_or_default(
                own.min_impact_pct, under.min_impact_pct, number, mark
            ),
            "combine": _set_or_default(own.combine, under.combine, str, mark),
            "severity_tiers_usd": _set_or_default(
                own.severity_tiers_usd, under.severity_tiers_usd, tiers_text, mark
            ),
        }

    rows = []
    for m in config.monitors:
        rows.append(row(m.dimension, m, defaults, "default"))
        family = m.config(defaults)
        for value, own in (m.values or {}).items():
            rows.append(row(f"{m.dimension} = {value}", own, family, m.dimension))
    columns = ["dimension", "min_impact_usd", "min_impact_pct", "combine", "severity_tiers_usd"]
    return pd.DataFrame(rows, columns=columns)

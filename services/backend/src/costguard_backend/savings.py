"""Realized savings of an executed action: the scope's actual spend after execution against the
counterfactual spend had the anomaly continued.

**Scope.** The anomaly's root-cause leaves (each a ``LEAF_COLUMNS`` combination; a ``None``
value matches a missing value), in the anomaly's currency (``scope["BillingCurrency"]``, USD when
absent, as the detective writes it). An anomaly without root causes uses its own ``scope``.

**Formula** (all figures in the scope's currency, never converted; rows with a negative
EffectiveCost — credits, refunds — are left out, as the detective leaves them out):

- ``W`` = days in the anomaly window ``start..end`` (UTC, inclusive);
- ``A`` = the scope's EffectiveCost summed over the window (``cost_daily``);
- ``I`` = the detective's excess of the scope over the window: the root causes' ``impact_usd``
  summed (each leaf's spend above its own baseline, ``costguard_core.detection.attribution``);
- expected (pre-anomaly) daily spend ``E = (A - I) / W``; excess run-rate ``X = I / W``;
- counterfactual daily spend ``C = E + X = A / W`` (the anomaly's excess on top of the expected
  spend, continuing); ``E``, ``X``, ``C`` are rates rounded half-even to 10 decimal places;
- for each full UTC day ``d`` after the execution day, up to ``SAVINGS_HORIZON_DAYS`` days and
  up to the newest day loaded for the scope's providers and currency:
  ``realized(d) = C - actual(d)`` (a day with no rows for the scope cost 0).

Realized to date is the sum over the measured days; it can be negative (spend rose further).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from costguard_core.detection.config import LEAF_COLUMNS
from costguard_core.models import ActionStatus as S
from sqlalchemy import and_, func, or_, select
from sqlmodel import Session, col

from costguard_backend.models import Action, Anomaly, AuditEvent, CostDaily, RootCause

RATE_QUANTUM = Decimal("1e-10")
#: Anomaly scope keys that are cost_daily columns (others, e.g. tag keys, are not filters).
_SCOPE_COLUMNS = (*LEAF_COLUMNS, "ServiceCategory")
FORMULA = (
    "C = E + X = A / W with E = (A - I) / W, X = I / W; realized(d) = C - actual(d) for each "
    "full UTC day d after execution (see costguard_backend.savings)"
)


@dataclass
class SavingsDay:
    day: date
    actual: Decimal
    counterfactual: Decimal
    realized: Decimal


@dataclass
class ActionSavings:
    """Realized savings of one action. ``measured`` is False (``note`` says why) when the action
    did not execute or no full day after execution is loaded yet."""

    action_id: int
    status: str
    currency: str
    estimated_monthly_saving_usd: Decimal
    scope: list[dict[str, str | None]]
    executed_at: datetime | None = None
    window_days: int = 0
    window_spend: Decimal = Decimal(0)
    anomaly_excess: Decimal = Decimal(0)
    expected_daily: Decimal | None = None
    excess_daily: Decimal | None = None
    counterfactual_daily: Decimal | None = None
    days_measured: int = 0
    realized_total: Decimal | None = None
    latest_day: date | None = None
    latest_day_spend: Decimal | None = None
    daily: list[SavingsDay] = field(default_factory=list)
    note: str | None = None

    @property
    def measured(self) -> bool:
        return self.days_measured > 0


def scope_filters(session: Session, anomaly: Anomaly) -> list[dict[str, str | None]]:
    """The cost_daily filters of the anomaly's scope: one per root-cause leaf, else the scope."""
    leaves = session.scalars(
        select(RootCause)
        .where(col(RootCause.anomaly_id) == anomaly.id)
        .order_by(col(RootCause.rank))
    ).all()
    if leaves:
        return [{c: getattr(rc, c) for c in LEAF_COLUMNS} for rc in leaves]
    return [{k: v for k, v in anomaly.scope.items() if k in _SCOPE_COLUMNS}]


def scope_where(filters: list[dict[str, str | None]], currency: str) -> Any:
    clauses = [
        and_(
            *(
                getattr(CostDaily, c).is_(None) if v is None else getattr(CostDaily, c) == v
                for c, v in leaf.items()
            )
        )
        for leaf in filters
    ]
    return and_(col(CostDaily.BillingCurrency) == currency, or_(*clauses))


def daily_spend(
    session: Session, filters: list[dict[str, str | None]], currency: str, first: date, last: date
) -> dict[date, Decimal]:
    """Non-negative EffectiveCost of the scope per UTC day in ``first..last`` (exact Decimal;
    summed here because SQLite stores money as text)."""
    rows = session.execute(
        select(col(CostDaily.ChargePeriodStart), col(CostDaily.EffectiveCost)).where(
            scope_where(filters, currency),
            col(CostDaily.ChargePeriodStart) >= first,
            col(CostDaily.ChargePeriodStart) <= last,
        )
    )
    out: dict[date, Decimal] = {}
    for day, cost in rows:
        if cost >= 0:
            out[day] = out.get(day, Decimal(0)) + cost
    return out


def executed_at(session: Session, action: Action) -> datetime | None:
    """When the action entered ``executed`` (its audit event), or None."""
    if action.status != S.executed:
        return None
    found = session.scalar(
        select(func.max(AuditEvent.created_at)).where(
            col(AuditEvent.entity_type) == "action",
            col(AuditEvent.entity_id) == str(action.id),
            col(AuditEvent.to_status) == S.executed.value,
        )
    )
    return found or action.updated_at


def _newest_loaded(session: Session, filters: list[dict[str, str | None]], currency: str) -> Any:
    providers = {f["ProviderName"] for f in filters if f.get("ProviderName")}
    stmt = select(func.max(CostDaily.ChargePeriodStart)).where(
        col(CostDaily.BillingCurrency) == currency
    )
    if providers:
        stmt = stmt.where(col(CostDaily.ProviderName).in_(sorted(providers)))
    return session.scalar(stmt)


def action_savings(session: Session, action: Action, horizon_days: int = 30) -> ActionSavings:
    """Realized savings of ``action`` (see the module doc for the formula and its sources)."""
    anomaly = session.get(Anomaly, action.anomaly_id)
    assert anomaly is not None  # action.anomaly_id is a foreign key
    filters = scope_filters(session, anomaly)
    currency = anomaly.scope.get("BillingCurrency", "USD")
    out = ActionSavings(
        action_id=action.id or 0,
        status=action.status,
        currency=currency,
        estimated_monthly_saving_usd=action.estimated_monthly_saving_usd,
        scope=filters,
        executed_at=executed_at(session, action),
    )
    newest = _newest_loaded(session, filters, currency)
    if newest is not None:
        out.latest_day = newest
        out.latest_day_spend = daily_spend(session, filters, currency, newest, newest).get(
            newest, Decimal(0)
        )
    if out.executed_at is None:
        out.note = f"not measured: the action is {action.status}, not executed"
        return out
    out.window_days = (anomaly.end - anomaly.start).days + 1
    window = daily_spend(session, filters, currency, anomaly.start, anomaly.end)
    out.window_spend = sum(window.values(), Decimal(0))
    causes = session.scalars(
        select(col(RootCause.impact_usd)).where(col(RootCause.anomaly_id) == anomaly.id)
    ).all()
    impacts = causes or [anomaly.impact_usd]
    out.anomaly_excess = sum((Decimal(str(v)) for v in impacts), Decimal(0))
    w = Decimal(out.window_days)
    q = lambda v: v.quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN)  # noqa: E731
    out.expected_daily = q((out.window_spend - out.anomaly_excess) / w)
    out.excess_daily = q(out.anomaly_excess / w)
    out.counterfactual_daily = q(out.window_spend / w)
    first = out.executed_at.date() + timedelta(days=1)
    last = first + timedelta(days=horizon_days - 1)
    if newest is not None:
        last = min(last, newest)
    if newest is None or last < first:
        out.note = "not measured yet: no full UTC day after execution is loaded"
        return out
    spend = daily_spend(session, filters, currency, first, last)
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        actual = spend.get(day, Decimal(0))
        c = out.counterfactual_daily
        out.daily.append(SavingsDay(day, actual, c, c - actual))
    out.days_measured = len(out.daily)
    out.realized_total = sum((d.realized for d in out.daily), Decimal(0))
    return out


def executed_actions(session: Session, limit: int) -> list[Action]:
    """The newest ``limit`` executed actions (by last update)."""
    return list(
        session.scalars(
            select(Action)
            .where(col(Action.status) == S.executed.value)
            .order_by(col(Action.updated_at).desc(), col(Action.id).desc())
            .limit(limit)
        )
    )


def totals(items: list[ActionSavings]) -> dict[str, dict[str, Any]]:
    """Realized savings summed per currency (never across): ``{currency: {"realized",
    "actions_measured", "days_measured"}}``; unmeasured actions are not counted."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.realized_total is None or not item.measured:
            continue
        entry = out.setdefault(
            item.currency, {"realized": Decimal(0), "actions_measured": 0, "days_measured": 0}
        )
        entry["realized"] += item.realized_total
        entry["actions_measured"] += 1
        entry["days_measured"] += item.days_measured
    return out


def estimated_by_status(session: Session) -> dict[str, Decimal]:
    """The optimizer's estimated monthly saving (USD) summed per action status (exact; summed
    here because SQLite stores money as text)."""
    out: dict[str, Decimal] = {}
    rows = session.execute(select(col(Action.status), col(Action.estimated_monthly_saving_usd)))
    for status, value in rows:
        out[status] = out.get(status, Decimal(0)) + value
    return out

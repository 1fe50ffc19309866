"""Business gauges computed from the database at scrape time (a prometheus_client collector).

| metric | labels | value |
|---|---|---|
| costguard_daily_spend_usd | provider, service | EffectiveCost, newest stored UTC day, USD |
| costguard_anomalies | severity, status | anomalies stored |
| costguard_actions | status | actions in each workflow state (every state, 0 included) |
| costguard_savings_estimated_monthly_usd | status | optimizer's estimate summed per action state |
| costguard_savings_realized_usd | action_id | realized to date (``savings.py``), USD scopes |
| costguard_action_scope_spend_usd | action_id | scope spend on its newest loaded day, USD |
| costguard_action_expected_spend_usd | action_id | counterfactual daily spend ``C``, USD |
| costguard_action_executed_timestamp_seconds | action_id | when the action entered executed |

Bounded cost: the counts and sums are a few grouped queries; the per-action series cover the
newest ``MAX_ACTIONS`` executed actions and are recomputed at most every ``CACHE_S`` seconds.
Scopes in another currency are left out of the ``_usd`` series (never converted); the API has
them. The collector reads the engine of the most recently started app (``bind``); unbound or
with the database down it exports the families without samples.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from costguard_core.models import ActionStatus
from fastapi import FastAPI
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col

from costguard_backend import savings
from costguard_backend.models import Action, Anomaly, CostDaily

logger = logging.getLogger(__name__)

MAX_ACTIONS = 100
CACHE_S = 60.0
_SPECS = {
    "costguard_daily_spend_usd": (
        "EffectiveCost of the newest stored UTC day (USD rows).", ["provider", "service"]),
    "costguard_anomalies": ("Anomalies stored, by severity and status.", ["severity", "status"]),
    "costguard_actions": ("Actions in each workflow state.", ["status"]),
    "costguard_savings_estimated_monthly_usd": (
        "Estimated monthly saving of actions (USD), by action state.", ["status"]),
    "costguard_savings_realized_usd": (
        "Realized savings to date of an executed action (USD scopes).", ["action_id"]),
    "costguard_action_scope_spend_usd": (
        "Spend of an executed action's scope on its newest loaded UTC day (USD).", ["action_id"]),
    "costguard_action_expected_spend_usd": (
        "Counterfactual daily spend of an executed action's scope (USD).", ["action_id"]),
    "costguard_action_executed_timestamp_seconds": (
        "When the action entered executed (Unix seconds).", ["action_id"]),
}  # fmt: skip


class BusinessCollector(Collector):
    def __init__(self) -> None:
        self._bound: list[tuple[sa.Engine, int]] = []
        self._lock = threading.Lock()
        self._cache: tuple[float, list[savings.ActionSavings]] | None = None

    def bind(self, engine: sa.Engine, horizon_days: int) -> None:
        with self._lock:
            self._bound.append((engine, horizon_days))
            self._cache = None

    def unbind(self, engine: sa.Engine) -> None:
        with self._lock:
            self._bound = [b for b in self._bound if b[0] is not engine]
            self._cache = None

    def describe(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families().values()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families = self._families()
        with self._lock:
            bound = self._bound[-1] if self._bound else None
        if bound is not None:
            try:
                with Session(bound[0]) as session:
                    self._fill(session, families, bound[1])
            except SQLAlchemyError as exc:  # a scrape must answer; healthz reports the database
                logger.warning("business metrics not collected: %s", exc)
                families = self._families()
        yield from families.values()

    @staticmethod
    def _families() -> dict[str, GaugeMetricFamily]:
        return {n: GaugeMetricFamily(n, doc, labels=lb) for n, (doc, lb) in _SPECS.items()}

    def _fill(self, session: Session, f: dict[str, GaugeMetricFamily], horizon: int) -> None:
        for labels, value in daily_spend_usd(session).items():
            f["costguard_daily_spend_usd"].add_metric(list(labels), float(value))
        stmt = select(col(Anomaly.severity), col(Anomaly.status), func.count()).group_by(
            col(Anomaly.severity), col(Anomaly.status)
        )
        for severity, status, n in session.execute(stmt):
            f["costguard_anomalies"].add_metric([severity, status], n)
        stmt2 = select(col(Action.status), func.count()).group_by(col(Action.status))
        counts: dict[str, int] = {s: n for s, n in session.execute(stmt2)}
        for status in ActionStatus:
            f["costguard_actions"].add_metric([status.value], counts.get(status.value, 0))
        for status, value in sorted(savings.estimated_by_status(session).items()):
            f["costguard_savings_estimated_monthly_usd"].add_metric([status], float(value))
        for item in self._actions(session, horizon):
            if item.currency != "USD":
                continue
            label = [str(item.action_id)]
            if item.executed_at is not None:
                ts = item.executed_at.timestamp()
                f["costguard_action_executed_timestamp_seconds"].add_metric(label, ts)
            if item.realized_total is not None:
                f["costguard_savings_realized_usd"].add_metric(label, float(item.realized_total))
            if item.counterfactual_daily is not None:
                c = float(item.counterfactual_daily)
                f["costguard_action_expected_spend_usd"].add_metric(label, c)
            if item.latest_day_spend is not None:
                spend = float(item.latest_day_spend)
                f["costguard_action_scope_spend_usd"].add_metric(label, spend)

    def _actions(self, session: Session, horizon: int) -> list[savings.ActionSavings]:
        now = time.monotonic()
        cached = self._cache
        if cached is not None and now - cached[0] < CACHE_S:
            return cached[1]
        items = [
            savings.action_savings(session, a, horizon)
            for a in savings.executed_actions(session, MAX_ACTIONS)
        ]
        self._cache = (now, items)
        return items

    def forget(self) -> None:
        """Drop the per-action cache (the next scrape recomputes)."""
        self._cache = None


def daily_spend_usd(session: Session) -> dict[tuple[str, str], Decimal]:
    """EffectiveCost per (ProviderName, ServiceName) on the newest stored UTC day of USD rows
    (net of credits), exact."""
    usd = col(CostDaily.BillingCurrency) == "USD"
    newest = session.scalar(select(func.max(CostDaily.ChargePeriodStart)).where(usd))
    if newest is None:
        return {}
    day = col(CostDaily.ChargePeriodStart) == newest
    out: dict[tuple[str, str], Decimal] = {}
    if session.get_bind().dialect.name == "postgresql":  # NUMERIC sums exactly in SQL
        stmt: Any = select(
            col(CostDaily.ProviderName),
            col(CostDaily.ServiceName),
            func.sum(col(CostDaily.EffectiveCost)),
        ).group_by(col(CostDaily.ProviderName), col(CostDaily.ServiceName))
        for provider, service, total in session.execute(stmt.where(usd, day)):
            out[(provider, service)] = Decimal(total)
        return out
    stmt = select(
        col(CostDaily.ProviderName), col(CostDaily.ServiceName), col(CostDaily.EffectiveCost)
    )
    for provider, service, cost in session.execute(stmt.where(usd, day)):
        out[(provider, service)] = out.get((provider, service), Decimal(0)) + cost
    return out


COLLECTOR = BusinessCollector()
REGISTRY.register(COLLECTOR)


@asynccontextmanager
async def bound_to(app: FastAPI) -> AsyncIterator[None]:
    """Router lifespan: the collector reads this app's database while the app runs."""
    COLLECTOR.bind(app.state.engine, app.state.settings.SAVINGS_HORIZON_DAYS)
    try:
        yield
    finally:
        COLLECTOR.unbind(app.state.engine)

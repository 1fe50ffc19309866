"""Realized savings: ``GET /api/v1/actions/{id}/savings`` and ``GET /api/v1/savings``.

Amounts are decimal strings in the scope's currency (``currency``), never converted; the
estimate is the optimizer's USD monthly figure. Formula and sources: ``costguard_backend.savings``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from costguard_backend import crud, savings
from costguard_backend.api.deps import Reader, SessionDep, SettingsDep
from costguard_backend.metrics_collectors import bound_to

# The lifespan points the scrape-time business gauges at this app's database.
router = APIRouter(tags=["savings"], lifespan=bound_to)


class SavingsDayPublic(BaseModel):
    day: date
    actual: Decimal
    counterfactual: Decimal
    realized: Decimal


class ActionSavingsPublic(BaseModel):
    """Estimate beside realized. ``realized_total`` is null until a full UTC day after
    execution is loaded (``note`` says why)."""

    action_id: int
    status: str
    currency: str
    estimated_monthly_saving_usd: Decimal
    executed_at: datetime | None
    measured: bool
    days_measured: int
    horizon_days: int
    window_days: int
    window_spend: Decimal
    anomaly_excess: Decimal
    expected_daily: Decimal | None
    excess_daily: Decimal | None
    counterfactual_daily: Decimal | None
    realized_total: Decimal | None
    latest_day: date | None
    latest_day_spend: Decimal | None
    scope: list[dict[str, str | None]]
    daily: list[SavingsDayPublic]
    formula: str
    note: str | None


class CurrencyTotal(BaseModel):
    currency: str
    realized: Decimal
    actions_measured: int
    days_measured: int


class SavingsSummary(BaseModel):
    """Realized savings per currency over the newest ``limit`` executed actions
    (``actions_considered``), and the estimated monthly saving (USD) per action status."""

    totals: list[CurrencyTotal]
    actions_considered: int
    estimated_monthly_saving_usd: dict[str, Decimal]
    actions: list[ActionSavingsPublic]


def public(item: savings.ActionSavings, horizon_days: int) -> ActionSavingsPublic:
    return ActionSavingsPublic.model_validate(
        {
            **{k: getattr(item, k) for k in ActionSavingsPublic.model_fields if hasattr(item, k)},
            "daily": [vars(d) for d in item.daily],
            "horizon_days": horizon_days,
            "formula": savings.FORMULA,
        }
    )


@router.get("/actions/{action_id}/savings", response_model=ActionSavingsPublic)
def action_savings(
    action_id: int, session: SessionDep, settings: SettingsDep, _: Reader
) -> ActionSavingsPublic:
    """404 for an unknown action; an action that did not execute answers ``measured: false``."""
    action = crud.get_action(session=session, action_id=action_id)
    horizon = settings.SAVINGS_HORIZON_DAYS
    return public(savings.action_savings(session, action, horizon), horizon)


@router.get("/savings", response_model=SavingsSummary)
def savings_summary(
    session: SessionDep,
    settings: SettingsDep,
    _: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> SavingsSummary:
    horizon = settings.SAVINGS_HORIZON_DAYS
    items = [
        savings.action_savings(session, a, horizon)
        for a in savings.executed_actions(session, limit)
    ]
    totals = [CurrencyTotal(currency=c, **v) for c, v in sorted(savings.totals(items).items())]
    return SavingsSummary(
        totals=totals,
        actions_considered=len(items),
        estimated_monthly_saving_usd=savings.estimated_by_status(session),
        actions=[public(i, horizon) for i in items],
    )

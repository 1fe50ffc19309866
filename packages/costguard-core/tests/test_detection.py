"""The seed detector finds injected incidents once, names their cause, and ignores normal cycles."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from costguard_core.detection import DetectorConfig, detect, fingerprint, series_count
from costguard_core.detection.baseline import evaluate
from costguard_core.detection.series import prepare

START = date(2024, 1, 1)  # a Monday

# (ProviderName, SubAccountId, ServiceName, ResourceId, USD per weekday)
LEAVES = [
    ("AWS", "prod", "Amazon EC2", "i-web-1", 120.0),
    ("AWS", "prod", "Amazon EC2", "i-web-2", 118.0),
    ("AWS", "prod", "Amazon RDS", "db-main", 60.0),
    ("AWS", "dev", "Amazon EC2", "i-dev-1", 25.0),
    ("AWS", "dev", "Amazon S3", "bucket-logs", 8.0),
    ("Microsoft", "sub-eu", "Virtual Machines", "vm-eu-1", 40.0),
]


def make_frame(
    days: int = 70,
    *,
    seed: int = 7,
    noise: float = 0.04,
    weekend: float = 0.6,
    bumps: dict[tuple[str, int], float] | None = None,
    extra_rows: list[dict] | None = None,
) -> pd.DataFrame:
    """Daily FOCUS rows, weekly cycle plus noise; ``bumps[(resource, day)]`` adds USD."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(days):
        day = START + timedelta(days=i)
        cycle = weekend if day.weekday() >= 5 else 1.0
        for provider, sub, service, resource, usd in LEAVES:
            cost = usd * cycle * (1 + rng.normal(0, noise)) + (bumps or {}).get((resource, i), 0.0)
            rows.append(row(day, provider, sub, service, resource, cost))
    return pd.DataFrame(rows + (extra_rows or []))


def row(day: date, provider: str, sub: str, service: str, resource: str, cost: float) -> dict:
    return {
        "ChargePeriodStart": day,
        "ProviderName": provider,
        "BillingAccountId": f"{provider}-billing",
        "SubAccountId": sub,
        "ServiceName": service,
        "ServiceCategory": "Compute",
        "RegionId": "eu-west-1",
        "ResourceId": resource,
        "ChargeCategory": "Usage" if cost >= 0 else "Credit",
        "BillingCurrency": "USD",
        "BilledCost": Decimal(f"{cost:.4f}"),
        "EffectiveCost": Decimal(f"{cost:.4f}"),
    }


def test_spike_found_once_with_start_end_and_cause() -> None:
    bumps = {("i-web-2", 40): 900.0, ("i-web-2", 41): 850.0, ("i-web-2", 42): 700.0}
    frame = make_frame(bumps=bumps)
    prep = prepare(frame, "EffectiveCost")
    flagged = evaluate(prep.matrix, DetectorConfig(), prep.days).flagged[:, 40]
    # Total, AWS, prod, Amazon EC2 and the leaf itself see the spike; one anomaly must come out.
    seen = [m for m, f in zip(prep.monitors, flagged, strict=True) if f]
    assert [m.scope for m in seen if m.column == "leaf"] == [
        {"ServiceName": "Amazon EC2", "SubAccountId": "prod"}
    ]
    assert {str(m.scope) for m in seen if m.column != "leaf"} == {
        "{}",
        "{'ProviderName': 'AWS'}",
        "{'SubAccountId': 'prod'}",
        "{'ServiceName': 'Amazon EC2'}",
    }
    found = detect(frame)
    assert len(found) == 1, [a.scope for a in found]
    a = found[0]
    assert (a.start, a.end) == (START + timedelta(days=40), START + timedelta(days=42))
    assert a.scope == {"ServiceName": "Amazon EC2"}
    top = a.root_causes[0]
    assert (top.ResourceId, top.SubAccountId, top.ServiceName) == ("i-web-2", "prod", "Amazon EC2")
    assert top.share > 0.8
    assert 2200 < a.impact_usd < 2700  # 2,450 injected, ± baseline noise
    assert a.severity == "high"
    assert 0.5 <= a.confidence <= 1
    assert a.actual_cost - a.expected_cost == pytest.approx(900, rel=0.1)
    assert a.id == fingerprint(a.scope, a.start)
    shares = [rc.share for rc in a.root_causes]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1.0)


def test_new_resource_level_shift_is_one_anomaly_named_after_the_resource() -> None:
    days = 70
    frame = make_frame(days)
    new = [
        row(START + timedelta(days=i), "AWS", "dev", "Amazon SageMaker", "nb-gpu", 300.0)
        for i in range(45, days)
    ]
    found = detect(pd.concat([frame, pd.DataFrame(new)], ignore_index=True))
    assert len(found) == 1, [(a.scope, a.start) for a in found]
    a = found[0]
    assert a.start == START + timedelta(days=45)
    # SageMaker is a new monitor without history, so a broader monitor sees it first; the dev
    # account explains all of the rise, so it is the one kept.
    assert a.scope == {"SubAccountId": "dev"}
    assert a.root_causes[0].ResourceId == "nb-gpu"
    assert a.root_causes[0].share > 0.9


def test_level_shift_in_existing_service_starts_on_the_shift_day() -> None:
    bumps = {("db-main", i): 90.0 for i in range(42, 70)}
    found = detect(make_frame(bumps=bumps))
    assert [(a.start, a.scope) for a in found] == [
        (START + timedelta(days=42), {"ServiceName": "Amazon RDS"})
    ]
    assert found[0].end > found[0].start
    assert found[0].root_causes[0].ResourceId == "db-main"


def test_two_incidents_in_different_weeks_are_two_anomalies() -> None:
    bumps = {("vm-eu-1", 25): 400.0, ("bucket-logs", 50): 300.0}
    found = detect(make_frame(bumps=bumps))
    assert [(a.start, a.root_causes[0].ResourceId) for a in found] == [
        (START + timedelta(days=25), "vm-eu-1"),
        (START + timedelta(days=50), "bucket-logs"),
    ]
    assert len({a.id for a in found}) == 2


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("weekend", [0.3, 2.5])
def test_weekly_seasonality_alone_is_not_an_anomaly(seed: int, weekend: float) -> None:
    assert detect(make_frame(84, seed=seed, weekend=weekend, noise=0.06)) == []


def test_credits_and_refunds_do_not_make_anomalies() -> None:
    credits = [
        row(START + timedelta(days=d), "AWS", "prod", "Amazon EC2", "i-web-1", -2000.0)
        for d in (20, 33, 47)
    ]
    # A credit programme that covers two weeks of RDS and then ends.
    credits += [
        row(START + timedelta(days=d), "AWS", "prod", "Amazon RDS", "db-main", -60.0)
        for d in range(21, 35)
    ]
    assert detect(make_frame(extra_rows=credits)) == []


def test_dips_are_not_anomalies() -> None:
    bumps = {("i-web-1", i): -100.0 for i in range(30, 40)}
    assert detect(make_frame(bumps=bumps)) == []


def test_thresholds_hold_back_small_rises_and_config_lowers_them() -> None:
    bumps = {("bucket-logs", 40): 9.0}  # > 100 % of S3's 8 USD but under 10 USD
    frame = make_frame(bumps=bumps, noise=0.01)
    assert detect(frame) == []
    found = detect(frame, config=DetectorConfig(min_impact_usd=5.0))
    assert [a.scope for a in found] == [{"ServiceName": "Amazon S3"}]
    assert found[0].severity == "low"


def test_cost_column_choice_and_series_count() -> None:
    frame = make_frame(bumps={("i-dev-1", 40): 500.0})
    frame["BilledCost"] = make_frame()["EffectiveCost"]  # the same rows without the rise
    assert len(detect(frame)) == 1
    assert detect(frame, cost_column="BilledCost") == []
    # total + 2 providers + 4 services (EC2, RDS, S3, Virtual Machines) + 3 sub-accounts
    assert series_count(frame) == 1 + 2 + 4 + 3

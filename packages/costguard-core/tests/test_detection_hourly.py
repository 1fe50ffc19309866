"""Hourly detection: hour-of-week seasonality, early raises, no look-ahead, the daily verdict."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from costguard_core.detection import detect
from costguard_core.detection.hourly import ALL_HOURS, day_so_far, detect_hourly
from costguard_core.errors import InputError

START = date(2024, 1, 1)  # a Monday
WEEKS = 10
DIURNAL = 1 + 0.6 * np.sin((np.arange(24) - 8) / 24 * 2 * np.pi).clip(0)
DIURNAL = DIURNAL / DIURNAL.sum()
LEAVES = [
    # provider, sub-account, service, resource, USD per weekday, weekend factor
    ("Google Cloud", "analytics-dev", "BigQuery", "etl-scheduled", 120.0, 0.3),
    ("Google Cloud", "analytics-dev", "Compute Engine", "vm-etl", 80.0, 1.0),
    ("AWS", "web-prod", "Amazon Elastic Compute Cloud", "i-web", 200.0, 0.9),
]
LOOP_DAY = START + timedelta(days=7 * 8 + 5)  # a Saturday in week 9


def hourly_frame(
    loop_from: datetime | None = None,
    loop_usd_per_hour: float = 30.0,
    saturday_batch: bool = False,
    seed: int = 7,
) -> pd.DataFrame:
    """Ten weeks of hourly FOCUS rows; optionally a BigQuery loop from ``loop_from`` on, and a
    regular Saturday 02:00–05:00 batch on vm-etl (a normal hour-of-week pattern)."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(7 * WEEKS):
        day = START + timedelta(days=d)
        weekend = day.weekday() >= 5
        for provider, sub, service, resource, usd, wk in LEAVES:
            total = usd * (wk if weekend else 1.0) * (1 + rng.normal(0, 0.05))
            hours = total * DIURNAL * rng.uniform(0.9, 1.1, 24)
            if saturday_batch and resource == "vm-etl" and day.weekday() == 5:
                hours[2:6] += 60.0
            for h in range(24):
                stamp = datetime.combine(day, datetime.min.time()) + timedelta(hours=h)
                cost = hours[h]
                if loop_from and resource == "etl-scheduled" and stamp >= loop_from:
                    cost += loop_usd_per_hour
                rows.append((stamp, provider, sub, service, resource, cost))
    frame = pd.DataFrame(
        rows,
        columns=[
            "ChargePeriodStart",
            "ProviderName",
            "SubAccountId",
            "ServiceName",
            "ResourceId",
            "EffectiveCost",
        ],
    )
    frame["BillingAccountId"] = "billing-1"
    frame["RegionId"] = "us"
    frame["BillingCurrency"] = "USD"
    return frame


@pytest.fixture(scope="module")
def loop_frame() -> pd.DataFrame:
    return hourly_frame(
        loop_from=datetime.combine(LOOP_DAY, datetime.min.time()) + timedelta(hours=2)
    )


@pytest.fixture(scope="module")
def loop_found(loop_frame: pd.DataFrame) -> list:
    return detect_hourly(loop_frame)


def test_saturday_0200_loop_is_raised_saturday_morning(loop_found: list) -> None:
    assert len(loop_found) == 1
    a = loop_found[0]
    assert a.start == LOOP_DAY
    sat = datetime.combine(LOOP_DAY, datetime.min.time())
    assert sat + timedelta(hours=3) <= a.detected_at <= sat + timedelta(hours=8)
    assert a.checkpoint_hour == (a.detected_at - sat).seconds // 3600 - 1
    assert a.root_causes[0].ResourceId == "etl-scheduled"
    assert a.root_causes[0].ServiceName == "BigQuery"


def test_daily_detector_sees_the_loop_only_after_the_day(loop_frame: pd.DataFrame) -> None:
    """The same data as daily rows: the daily detector finds the loop too, but only once the
    Saturday has closed (its start day is the Saturday, so the earliest is Sunday 00:00)."""
    daily = loop_frame.assign(
        ChargePeriodStart=pd.to_datetime(loop_frame["ChargePeriodStart"]).dt.floor("D")
    )
    found = detect(daily)
    assert [a.start for a in found] == [LOOP_DAY]


def test_partial_day_raises_the_same_anomaly(loop_frame: pd.DataFrame, loop_found: list) -> None:
    """No look-ahead: with data only up to the raise hour, the same anomaly (same id) is raised
    at the same moment; with data up to the hour before it, nothing is."""
    a = loop_found[0]
    stamps = pd.to_datetime(loop_frame["ChargePeriodStart"])
    upto = loop_frame[stamps < a.detected_at]
    partial = detect_hourly(upto)
    assert [(p.id, p.detected_at, p.start) for p in partial] == [(a.id, a.detected_at, a.start)]
    assert partial[0].root_causes[0].ResourceId == "etl-scheduled"
    earlier = loop_frame[stamps < a.detected_at - timedelta(hours=1)]
    assert detect_hourly(earlier) == []


def test_regular_saturday_night_batch_is_not_an_anomaly() -> None:
    """Hour-of-week seasonality: a batch every Saturday 02:00–05:00 is compared with earlier
    Saturdays' same hours, so it raises nothing, while the loop still does."""
    frame = hourly_frame(saturday_batch=True)
    assert detect_hourly(frame) == []
    looped = hourly_frame(
        saturday_batch=True,
        loop_from=datetime.combine(LOOP_DAY, datetime.min.time()) + timedelta(hours=2),
    )
    found = detect_hourly(looped)
    assert [a.root_causes[0].ResourceId for a in found] == ["etl-scheduled"]


def test_whole_day_checkpoint_is_the_daily_verdict(loop_frame: pd.DataFrame) -> None:
    """Checkpoint 23 judges whole days: with it alone the result is the daily detector's."""
    only_day = detect_hourly(loop_frame, checkpoints=(23,))
    daily = loop_frame.assign(
        ChargePeriodStart=pd.to_datetime(loop_frame["ChargePeriodStart"]).dt.floor("D")
    )
    expected = detect(daily)
    fields = ("id", "start", "end", "scope", "expected_cost", "actual_cost", "impact_usd")
    got = [{f: getattr(a, f) for f in fields} for a in only_day]
    want = [{f: getattr(a, f) for f in fields} for a in expected]
    assert len(got) == len(want) == 1
    for g, w in zip(got, want, strict=True):
        assert g["id"] == w["id"] and g["start"] == w["start"] and g["scope"] == w["scope"]
        assert g["impact_usd"] == pytest.approx(w["impact_usd"], rel=1e-9)
    assert all(a.checkpoint_hour == 23 for a in only_day)


def test_day_so_far_sums_hours_and_leaves_out_credits() -> None:
    t0 = datetime(2024, 3, 1)
    frame = pd.DataFrame(
        {
            "ChargePeriodStart": [t0, t0 + timedelta(hours=1), t0 + timedelta(hours=5), t0],
            "ProviderName": ["AWS"] * 4,
            "BillingAccountId": ["b"] * 4,
            "SubAccountId": ["s"] * 4,
            "ServiceName": ["EC2"] * 4,
            "RegionId": [None] * 4,
            "ResourceId": ["i-1"] * 4,
            "EffectiveCost": [1.5, 2.0, 4.0, -10.0],
        }
    )
    keys, cumulative, last = day_so_far(frame)
    assert len(keys) == 1 and keys.loc[0, "RegionId"] is None
    assert cumulative[0, 0] == 1.5 and cumulative[0, 1] == 3.5 and cumulative[0, 4] == 3.5
    assert cumulative[0, 23] == 7.5
    assert last == pd.Timestamp(t0 + timedelta(hours=5))


def test_bad_input_is_named() -> None:
    frame = hourly_frame().head(50)
    with pytest.raises(InputError, match="checkpoint"):
        detect_hourly(frame, checkpoints=(24,))
    with pytest.raises(InputError, match="ResourceId"):
        detect_hourly(frame.drop(columns=["ResourceId"]))
    bad = frame.astype({"EffectiveCost": object})
    bad.loc[3, "EffectiveCost"] = "n/a"
    with pytest.raises(InputError, match="position 3"):
        detect_hourly(bad)
    assert tuple(range(24)) == ALL_HOURS

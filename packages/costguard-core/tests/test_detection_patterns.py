"""Patterns that are not anomalies (month-start fees, batch jobs) and ones that are (drift, a
shift hidden inside a service by a noisy batch job)."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from costguard_core.detection import detect

_spec = importlib.util.spec_from_file_location(
    "_detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec is not None and _spec.loader is not None
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)
START, row = frames.START, frames.row
DAYS = 150


def _leaf(resource: str, service: str, costs) -> list[dict]:
    return [
        row(START + timedelta(days=i), "AWS", "prod", service, resource, float(c))
        for i, c in enumerate(costs)
        if c > 0
    ]


def test_month_start_fee_and_batch_job_are_normal() -> None:
    rng = np.random.default_rng(3)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    fee = [20.0 + (600.0 if d.day == 1 else 0.0) for d in days]
    batch = 400.0 * (rng.random(DAYS) < 0.25)
    extra = _leaf("support", "AWS Support", fee) + _leaf("etl", "AWS Glue", batch)
    found = detect(frames.make_frame(DAYS, extra_rows=extra), since=START + timedelta(days=45))
    assert found == []


def test_drift_is_found_within_two_weeks() -> None:
    ramp = {("db-main", i): 60.0 * min(1.0, (i - 90) / 14) for i in range(90, DAYS)}
    found = detect(frames.make_frame(DAYS, bumps=ramp))
    assert len(found) == 1, [(a.start, a.scope) for a in found]
    assert 90 <= (found[0].start - START).days <= 104
    assert found[0].root_causes[0].ResourceId == "db-main"


def test_shift_hidden_in_a_service_by_a_batch_job_is_found_on_its_leaf() -> None:
    rng = np.random.default_rng(4)
    batch = 900.0 * (rng.random(DAYS) < 0.3)
    steady = np.full(DAYS, 80.0) * (1 + rng.normal(0, 0.03, DAYS))
    steady[100:] += 110.0
    extra = _leaf("bq-batch", "BigQuery", batch) + _leaf("bq-steady", "BigQuery", steady)
    # A batch job is learnt as normal once a few of its runs are in view (``since`` skips that).
    frame = pd.DataFrame(frames.make_frame(DAYS).to_dict("records") + extra)
    found = detect(frame, since=START + timedelta(days=45))
    assert [(a.start - START).days for a in found] == [100]
    assert found[0].root_causes[0].ResourceId == "bq-steady"


def test_month_end_processing_is_normal_and_a_month_end_spike_is_not() -> None:
    """Month-end charges recur like month-start fees (judged against last month's same day
    from the end), while a rise on another day of the same size is still found."""
    days = [START + timedelta(days=i) for i in range(DAYS)]
    last_two = [
        d.day >= (d + timedelta(days=2)).replace(day=1).day
        and (d + timedelta(days=2)).month != d.month
        for d in days
    ]
    close = [20.0 + (300.0 if end else 0.0) for end in last_two]
    extra = _leaf("close", "AWS Glue", close)
    since = START + timedelta(days=45)
    assert detect(frames.make_frame(DAYS, extra_rows=extra), since=since) == []
    close[120] += 300.0  # the same size on an ordinary day
    found = detect(
        frames.make_frame(DAYS, extra_rows=_leaf("close", "AWS Glue", close)), since=since
    )
    assert [(a.start - START).days for a in found] == [120]


def test_month_end_processing_scales_with_the_weekday() -> None:
    """Month-end processing on a dev account that idles at weekends: March ends on a weekend
    (a small month-end rise in USD), April on Monday/Tuesday (the same ×2.5 of a weekday's
    spend is a far larger rise in USD). Last month's charge is taken relative to its day's
    level, so April's end is normal; a real rise on April's last day is still found."""
    rng = np.random.default_rng(11)
    days = [START + timedelta(days=i) for i in range(DAYS)]
    level = np.array([200.0 * (0.2 if d.weekday() >= 5 else 1.0) for d in days])
    month_end = np.array([(d + timedelta(days=2)).month != d.month for d in days])
    costs = level * np.where(month_end, 2.5, 1.0) * (1 + rng.normal(0, 0.03, DAYS))
    since = START + timedelta(days=45)
    assert days[119].isoformat() == "2024-04-29"  # Monday, after March's Saturday/Sunday end
    quiet = detect(
        frames.make_frame(DAYS, extra_rows=_leaf("close", "AWS Glue", costs)), since=since
    )
    assert quiet == [], [(a.start, a.scope) for a in quiet]
    costs[120] += 1500.0  # a real rise on April's last day
    found = detect(
        frames.make_frame(DAYS, extra_rows=_leaf("close", "AWS Glue", costs)), since=since
    )
    assert [(a.start - START).days for a in found] == [120]


def test_a_job_running_every_four_weeks_is_learnt_as_on_off() -> None:
    """Two runs in the 56-day tail window are too few for a run level; the on/off window then
    looks twice as far back, so each run is not judged against an expected 0."""
    rng = np.random.default_rng(5)
    job = np.zeros(DAYS)
    job[3::27] = 500.0 * (1 + rng.normal(0, 0.05, len(job[3::27])))
    found = detect(
        frames.make_frame(DAYS, extra_rows=_leaf("monthly", "AWS Batch", job)),
        since=START + timedelta(days=100),
    )
    assert found == [], [(a.start, a.scope) for a in found]


def test_single_day_rise_of_a_service_needs_one_leaf_past_the_bound(monkeypatch) -> None:
    """Two leaves each rising ~6 of their own σ on one day make their service rise ~8.5σ: the
    service passes the single-day bound (7), neither leaf does, so it is noise adding up and
    no anomaly (``detector._corroborated``); without that rule the service would be raised."""
    from costguard_core.detection import detector

    bumps = {("i-web-1", 100): 113.0, ("i-web-2", 100): 111.0}
    frame = frames.make_frame(120, seed=5, noise=0.15, bumps=bumps)
    since = START + timedelta(days=60)
    assert detect(frame, since=since) == []
    monkeypatch.setattr(detector, "_corroborated", lambda *args: True)
    assert [a.scope for a in detect(frame, since=since)] == [{"ServiceName": "Amazon EC2"}]


def test_a_leaf_spike_material_for_its_account_is_found_in_a_big_service() -> None:
    """A 60 USD spike on a 25 USD/day dev instance is 23 % of its EC2 service (under the 25 %
    threshold) but most of its small account, whose own monitor is drowned by a batch job: the
    leaf's percent test uses the smaller of its service and account (``rows.evaluate_rows``)."""
    rng = np.random.default_rng(6)
    batch = 400.0 * (rng.random(DAYS) < 0.25)
    glue = [
        row(START + timedelta(days=i), "AWS", "dev", "AWS Glue", "etl-dev", float(c))
        for i, c in enumerate(batch)
        if c > 0
    ]
    frame = frames.make_frame(DAYS, bumps={("i-dev-1", 120): 60.0}, extra_rows=glue)
    found = detect(frame, since=START + timedelta(days=60))
    assert [((a.start - START).days, a.scope) for a in found] == [
        (120, {"ServiceName": "Amazon EC2", "SubAccountId": "dev"})
    ]
    assert found[0].root_causes[0].ResourceId == "i-dev-1"

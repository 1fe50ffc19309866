"""No look-ahead, the ``since`` filter and stable ids, proved on a frame with several incidents."""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from costguard_core.detection import detect

# make_frame/row live in the sibling test module; --import-mode=importlib needs an explicit load.
_spec = importlib.util.spec_from_file_location(
    "_detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec is not None and _spec.loader is not None
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)

START = frames.START
DAYS = 84


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    bumps = {("i-web-2", 30): 900.0, ("i-web-2", 31): 600.0}
    bumps |= {("db-main", i): 80.0 for i in range(50, DAYS)}
    new = [
        frames.row(
            START + timedelta(days=i), "Microsoft", "sub-eu", "Azure OpenAI", "gpt-eu", 250.0
        )
        for i in range(64, DAYS)
    ]
    return frames.make_frame(DAYS, bumps=bumps, extra_rows=new)


@pytest.fixture(scope="module")
def full(frame: pd.DataFrame) -> list:
    found = detect(frame)
    assert [a.start for a in found] == [START + timedelta(days=d) for d in (30, 50, 64)]
    return found


def _upto(frame: pd.DataFrame, day: date) -> pd.DataFrame:
    return frame[frame["ChargePeriodStart"] <= day]


def _start_facts(items: list, cut: date) -> list:
    """What is known about an anomaly on its start day."""
    return [
        (a.id, a.start, a.scope, a.expected_cost, a.actual_cost, a.confidence)
        for a in items
        if a.start <= cut
    ]


def test_no_look_ahead_every_cutoff(frame: pd.DataFrame, full: list) -> None:
    """Cutting the data after day c changes nothing about days up to c."""
    for c in range(20, DAYS):
        cut = START + timedelta(days=c)
        seen = detect(_upto(frame, cut))
        # Anomalies over by day c are identical in every field.
        assert [a for a in seen if a.end < cut] == [a for a in full if a.end < cut], cut
        # Anomalies under way on day c already exist, with the same start-day figures.
        assert _start_facts(seen, cut) == _start_facts(full, cut), cut
        assert all(a.end == cut for a in seen if a.end >= cut)


@pytest.mark.parametrize("offset", [30, 50, 64])
def test_anomaly_reported_on_the_day_it_starts(frame: pd.DataFrame, offset: int) -> None:
    day = START + timedelta(days=offset)
    assert detect(_upto(frame, day - timedelta(days=1))) == [
        a for a in detect(frame) if a.start < day and a.end < day
    ]
    latest = detect(_upto(frame, day))[-1]
    assert (latest.start, latest.end) == (day, day)


@pytest.mark.parametrize("offset", [0, 30, 31, 50, 64, 70])
def test_since_limits_the_report_not_the_training(
    frame: pd.DataFrame, full: list, offset: int
) -> None:
    since = START + timedelta(days=offset)
    assert detect(frame, since=since) == [a for a in full if a.start >= since]


def test_since_is_not_the_same_as_dropping_earlier_days(frame: pd.DataFrame, full: list) -> None:
    since = START + timedelta(days=50)
    trained = detect(frame, since=since)
    assert [a.start for a in trained] == [since, START + timedelta(days=64)]
    # Without the earlier days there is no baseline for the RDS shift on its first day.
    untrained = detect(frame[frame["ChargePeriodStart"] >= since])
    assert since not in [a.start for a in untrained]


def test_ids_are_stable_and_row_order_does_not_matter(frame: pd.DataFrame, full: list) -> None:
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    assert detect(shuffled) == full
    assert len({a.id for a in full}) == len(full)

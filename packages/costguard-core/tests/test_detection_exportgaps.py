"""Export gaps (``detection.exportgaps``, session 21): a provider export without a single row on
a day is read as a missing day, not as zero spend."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from costguard_core.detection import DetectorConfig, detect, detector
from costguard_core.detection.exportgaps import export_gaps
from costguard_core.detection.gaps import lookback_days

_spec = importlib.util.spec_from_file_location(
    "detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec and _spec.loader
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)


def test_export_gap_days() -> None:
    """A day without rows is a gap of an export that had rows for at least 3 leaves on its
    last day with rows, at most 3 days before; not of a one-leaf export (an idle batch job);
    of a longer silence only the first 3 days."""
    leaf_days = {0: range(20), 1: range(20), 2: range(20), 3: [0, 1, 2, 6, 7]}
    export = np.array([0, 0, 0, 1])
    for leaf in (0, 1, 2):
        leaf_days[leaf] = [d for d in range(20) if d not in (5, 10, 11, 14, 15, 16, 17)]
    leaf_row = np.concatenate([np.full(len(days), leaf) for leaf, days in leaf_days.items()])
    day_row = np.concatenate([np.asarray(days) for days in leaf_days.values()])
    gap = export_gaps(export, leaf_row, day_row, 20)
    assert np.flatnonzero(gap[0]).tolist() == [5, 10, 11, 14, 15, 16]
    assert not gap[1].any()  # one leaf: its idle days are usage


def _missing_days(frame: pd.DataFrame, provider: str, days: list[int]) -> pd.DataFrame:
    """``provider``'s export misses each of ``days``; its charges arrive with the next day's."""
    frame = frame.copy()
    day = pd.to_datetime(frame["ChargePeriodStart"])
    for d in days:
        late = (frame["ProviderName"] == provider) & (
            day == pd.Timestamp(frames.START + timedelta(days=d))
        )
        frame.loc[late, "ChargePeriodStart"] = frames.START + timedelta(days=d + 1)
    return frame


def test_two_missing_days_on_one_weekday_raise_no_anomaly(monkeypatch) -> None:
    """Two Thursdays missing from one export a week apart: read as zero spend they would halve
    that weekday's median for weeks, and ordinary Thursdays would read as a rise (they did
    before session 21); read as export gaps, no anomaly. One export only: a monitor summing
    several exports (here the total, with another provider's) is not filled in (NOTES,
    session 21)."""
    frame = frames.make_frame(120)
    frame = _missing_days(frame[frame["ProviderName"] == "AWS"], "AWS", [59, 66])  # Thursdays
    since = frames.START + timedelta(days=55)
    assert detect(frame, since=since) == []
    with monkeypatch.context() as m:  # the same frame, gaps read as zero spend
        m.setattr(detector, "fill_export_gaps", lambda prep, config: prep)
        assert detect(frame, since=since) != []


def test_an_incident_after_an_export_gap_is_still_raised() -> None:
    """A resource's spike on the day that carries a gap's charges, and one a week later on
    the gap's weekday, are each raised once and named after the resource."""
    frame = _missing_days(frames.make_frame(120), "AWS", [59, 66])
    spikes = {61: "i-web-2", 74: "db-main"}  # a Saturday would carry 60's: use 61 and 74
    for d, resource in spikes.items():
        on = (frame["ResourceId"] == resource) & (
            pd.to_datetime(frame["ChargePeriodStart"])
            == pd.Timestamp(frames.START + timedelta(days=d))
        )
        frame.loc[on, "EffectiveCost"] += Decimal("900")
    found = detect(frame, since=frames.START + timedelta(days=55))
    assert [(a.start, a.root_causes[0].ResourceId) for a in found] == [
        (frames.START + timedelta(days=d), resource) for d, resource in spikes.items()
    ]


@pytest.mark.parametrize("offset", [0, 3, 20])
def test_a_run_over_the_look_back_equals_the_backtest(offset: int) -> None:
    """An incremental run reading only ``lookback_days`` before its day gives the backtest's
    anomalies from that day, with export gaps anywhere in the read days (the filled-in spend
    reads the weeks before a gap, which the look-back counts)."""
    look = lookback_days(DetectorConfig())
    n = look + 60
    bumps = {("i-web-1", n - 5): 900.0, ("db-main", n - 4): 500.0}
    gaps = [n - look + offset, n - look + offset + 7, n - 40, n - 12]
    frame = _missing_days(frames.make_frame(n, noise=0.08, bumps=bumps), "AWS", gaps)
    full = detect(frame)
    since = frames.START + timedelta(days=n - 5)
    assert [a.start for a in full if a.start >= since]
    first = pd.Timestamp(since - timedelta(days=look))
    tail = frame[pd.to_datetime(frame["ChargePeriodStart"]) >= first]
    assert [a.model_dump() for a in detect(tail, since=since)] == [
        a.model_dump() for a in full if a.start >= since
    ]

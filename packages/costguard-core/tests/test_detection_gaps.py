"""Shortening long idle gaps (``detection.gaps``) leaves every anomaly exactly as it was."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from costguard_core.detection import DetectorConfig, detect, detector
from costguard_core.detection.gaps import kept_days, lookback_days
from costguard_core.detection.series import prepare

_spec = importlib.util.spec_from_file_location(
    "detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec and _spec.loader
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)

GAP = 600  # idle days between the two stretches, not a whole number of weeks


def _gappy() -> pd.DataFrame:
    """120 days, 600 days without a row, 120 more; spikes and a new resource in both stretches."""
    first = frames.make_frame(120, bumps={("i-web-1", 60): 900.0, ("db-main", 100): 400.0})
    second = frames.make_frame(120, seed=11, bumps={("i-dev-1", 50): 300.0})
    shift = timedelta(days=120 + GAP)
    second["ChargePeriodStart"] = second["ChargePeriodStart"] + shift
    new = [
        frames.row(frames.START + shift + timedelta(days=d), "AWS", "prod", "AWS Lambda", "fn", 80)
        for d in range(90, 120)
    ]
    return pd.concat([first, second, pd.DataFrame(new)], ignore_index=True)


def _unshortened(monkeypatch: pytest.MonkeyPatch, frame: pd.DataFrame, **kw) -> list:
    with monkeypatch.context() as m:
        m.setattr(detector, "lookback_days", lambda config: None)
        return detect(frame, **kw)


def test_shortened_gap_gives_the_same_anomalies(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _gappy()
    prep = prepare(frame, "EffectiveCost", lookback_days(DetectorConfig()))
    assert prep.matrix.shape[1] < 240 + lookback_days(DetectorConfig()) + 7  # it did shorten
    full = _unshortened(monkeypatch, frame)
    assert [a.model_dump() for a in detect(frame)] == [a.model_dump() for a in full]
    after = frames.START + timedelta(days=120 + GAP)
    # anomalies on both sides of the gap, including well after it
    assert any(a.start < frames.START + timedelta(days=120) for a in full)
    assert any(a.start >= after + timedelta(days=50) for a in full)


@pytest.mark.parametrize("offset", [100, 300, 120 + GAP + 40])
def test_since_inside_and_after_the_gap(monkeypatch: pytest.MonkeyPatch, offset: int) -> None:
    frame = _gappy()
    since = frames.START + timedelta(days=offset)
    full = _unshortened(monkeypatch, frame, since=since)
    assert [a.model_dump() for a in detect(frame, since=since)] == [a.model_dump() for a in full]


def test_kept_days_removes_whole_weeks_after_the_look_back() -> None:
    idx = np.array([0, 1, 2, 2 + 1 + 30 + 15, 2 + 1 + 30 + 15 + 1])  # 45 idle days after day 2
    kept = kept_days(idx, 30)
    assert len(kept) == idx.max() + 1 - 14  # 15 idle days beyond 30: two whole weeks removed
    assert set(idx) <= set(kept.tolist())
    assert (np.diff(kept) != 1).sum() == 1

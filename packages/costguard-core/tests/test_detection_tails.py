"""Round-2 mechanisms: on/off batch jobs, the single-day tail bound, hierarchical consistency,
and the incremental screen giving the backtest's answer."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import numpy as np
from costguard_core.detection import DetectorConfig, detect
from costguard_core.detection.baseline import evaluate
from costguard_core.detection.tails import on_level, tail_bound

_spec = importlib.util.spec_from_file_location(
    "detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec and _spec.loader
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)


def _batch_rows(days: int, runs: dict[int, float]) -> list[dict]:
    return [
        frames.row(frames.START + timedelta(days=d), "AWS", "prod", "AWS Batch", "job-1", usd)
        for d, usd in runs.items()
        if d < days
    ]


def test_batch_job_runs_are_not_anomalies_but_a_far_larger_run_is() -> None:
    rng = np.random.default_rng(3)
    ran = [d for d in range(120) if rng.random() < 0.3]
    runs = {d: 400.0 * (1 + rng.normal(0, 0.05)) for d in ran}
    quiet = detect(frames.make_frame(120, extra_rows=_batch_rows(120, runs)))
    assert not [a for a in quiet if any(c.ResourceId == "job-1" for c in a.root_causes[:1])]
    big_day = next(d for d in ran if d > 90)
    runs[big_day] = 4000.0
    found = detect(frames.make_frame(120, extra_rows=_batch_rows(120, runs)))
    hits = [a for a in found if a.root_causes and a.root_causes[0].ResourceId == "job-1"]
    assert [a.start for a in hits] == [frames.START + timedelta(days=big_day)]


def test_on_level_is_the_median_run_and_only_for_series_with_off_days() -> None:
    y = np.zeros((2, 80))
    y[0, ::3] = 100.0
    y[0, 30] = 130.0
    y[1] = 50.0
    level, spread, largest = on_level(y, DetectorConfig())
    assert level[0, 69] == 100.0 and largest[0, 69] == 130.0 and spread[0, 69] == 0.0
    assert np.isnan(level[0, 70])  # only computed on days it runs
    assert np.isnan(level[1]).all()


def test_tail_bound_grows_with_heavy_tails_and_reads_only_the_past() -> None:
    rng = np.random.default_rng(0)
    z = np.vstack([rng.normal(0, 1, 200), rng.standard_t(2, 200)])
    bound = tail_bound(z, DetectorConfig())
    assert bound[0, 150] < bound[1, 150]
    assert bound[0, 5] == DetectorConfig().z_threshold  # too few residuals: the plain bound
    cut = tail_bound(z[:, :120], DetectorConfig())
    np.testing.assert_array_equal(cut, bound[:, :120])


def test_a_moderate_rise_needs_a_second_day_a_large_one_does_not() -> None:
    rng = np.random.default_rng(2)
    y = 100 + rng.normal(0, 5, (2, 90))
    y[0, 60] += 40  # about 6 sigma, one day only
    y[1, 60:] += 40  # the same, persisting
    ev = evaluate(y, DetectorConfig(single_day_z=7.0))
    assert not ev.flagged[0].any()
    assert not ev.flagged[1, 60] and ev.flagged[1, 61]
    ev = evaluate(y, DetectorConfig(single_day_z=4.0))
    assert ev.flagged[0, 60] and ev.flagged[1, 60]


def test_since_run_equals_the_backtest_from_that_day() -> None:
    bumps = {("i-dev-1", 50): 300.0, ("db-main", 63): 500.0, ("vm-eu-1", 64): 400.0}
    frame = frames.make_frame(90, bumps=bumps)
    full = detect(frame)
    assert len(full) >= 2
    for a in full:
        part = detect(frame, since=a.start)
        assert [x.model_dump() for x in part] == [
            x.model_dump() for x in full if x.start >= a.start
        ]


def test_screen_never_drops_a_series_that_would_be_flagged() -> None:
    from costguard_core.detection.rows import evaluate_rows
    from costguard_core.detection.series import prepare

    rng = np.random.default_rng(5)
    runs = {d: 300.0 * (1 + rng.normal(0, 0.1)) for d in range(100) if rng.random() < 0.3}
    runs[95] = 2500.0
    bumps = {("i-dev-1", 60): 200.0, ("bucket-logs", 70): 60.0, ("vm-eu-1", 80): 90.0}
    frame = frames.make_frame(100, noise=0.08, bumps=bumps, extra_rows=_batch_rows(100, runs))
    prep = prepare(frame, "EffectiveCost")
    config = DetectorConfig()
    configs = [config] * len(prep.monitors)
    plain, _ = evaluate_rows(prep, configs, None)
    assert plain.flagged.any()
    for from_day in (0, 55, 90):
        screened, _ = evaluate_rows(prep, configs, from_day)
        np.testing.assert_array_equal(screened.flagged[:, from_day:], plain.flagged[:, from_day:])

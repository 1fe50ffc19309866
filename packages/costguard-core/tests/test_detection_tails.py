"""Round-2 mechanisms: on/off batch jobs, the single-day tail bound, hierarchical consistency,
and the incremental screen giving the backtest's answer."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import numpy as np
from costguard_core.detection import DetectorConfig, detect
from costguard_core.detection import baseline as baseline_module
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
    y[0, 74] = 150.0  # the largest run, the day before day 75
    level, spread, largest, earlier, _ = on_level(y, DetectorConfig())
    assert level[0, 69] == 100.0 and largest[0, 69] == 130.0 and spread[0, 69] == 0.0
    assert earlier[0, 69] == 130.0  # day 68 did not run: the same largest run
    assert largest[0, 75] == 150.0 and earlier[0, 75] == 130.0  # without yesterday's run
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


def test_a_leafs_moderate_rise_lasting_three_days_is_flagged_on_the_third() -> None:
    rng = np.random.default_rng(4)
    y = 100 + rng.normal(0, 8, (2, 90))
    y[0, 60:63] += 35  # three days, each under the two-day rule's first bound (z 5)
    y[1, 60:62] += 35  # the same for two days only
    leaf = evaluate(y, DetectorConfig(), leaf=True)
    assert (leaf.z[0, 60:63] > 3).all() and (leaf.z[0, 60:63] < 5).all()
    assert list(np.flatnonzero(leaf.flagged[0, 55:70]) + 55) == [62]
    assert not leaf.single[0, 62]  # not the single-day bound: the persistence rule
    assert not leaf.flagged[1].any()
    # On a monitor summing several leaves three such days are not enough (growth, seasons).
    summed = evaluate(y, DetectorConfig(), leaf=False)
    assert not summed.flagged.any()


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


def test_a_batch_run_is_flagged_only_when_the_rise_lasts_two_run_days() -> None:
    """Round 5: a run of an on/off series is never an anomaly on one day alone (its few past
    runs cannot show it is far out), and a run confirming yesterday's rise is judged against
    the runs before that rise (the largest run including yesterday's would hide it)."""
    rng = np.random.default_rng(5)
    y = np.zeros((1, 140))
    ran = [d for d in range(140) if d % 3 != 2 and rng.random() < 0.6]
    y[0, ran] = 400.0 * (1 + rng.normal(0, 0.05, len(ran)))
    one = y.copy()
    # One run half as large again, then an idle day: past the single-day bound (z ≈ 10), yet
    # not flagged. (A far larger one still is, through the drift window's mean.)
    one[0, 100], one[0, 101] = 600.0, 0.0
    ev = evaluate(one, DetectorConfig())
    assert ev.z[0, 100] > DetectorConfig().single_day_z and not ev.flagged[0, 100:103].any()
    two = y.copy()
    two[0, 100], two[0, 101], two[0, 102] = 600.0, 580.0, 0.0  # two raised runs in a row
    ev = evaluate(two, DetectorConfig())
    assert not ev.flagged[0, 100] and ev.flagged[0, 101]
    # Reported against the runs before the rise, not against yesterday's 600.
    assert ev.expected[0, 101] < 450 and ev.excess[0, 101] > 130


def _dev_batch_job(days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A dev account's batch job: runs on about half the days, ~250 USD on weekdays and ~50 at
    weekends; the columns' dates start on frames.START (a Monday)."""
    rng = np.random.default_rng(seed)
    dates = np.datetime64(frames.START, "D") + np.arange(days)
    weekend = ~np.is_busday(dates)
    y = np.where(weekend, 50.0, 250.0) * (1 + rng.normal(0, 0.04, days))
    y[rng.random(days) < 0.45] = 0.0
    return y[None, :], dates


def test_a_weekend_run_is_judged_against_weekend_runs_when_dates_are_given() -> None:
    """Session 7: a dev account's job runs smaller at weekends; without the dates its weekend
    runs are measured against the window's largest run, a weekday one, so a weekend run five
    times its usual size passes as ordinary."""
    y, dates = _dev_batch_job(120, 4)
    saturday = next(d for d in range(100, 120) if (d % 7) == 5 and y[0, d] > 0)
    monday = next(d for d in range(100, 120) if (d % 7) == 0 and y[0, d] > 0)
    level, _, largest, _, _ = on_level(y, DetectorConfig(), dates)
    plain_level, _, plain_largest, _, _ = on_level(y, DetectorConfig())
    assert 40 < level[0, saturday] < 60 and largest[0, saturday] < 60
    assert 230 < level[0, monday] < 270 and largest[0, monday] > 230
    assert plain_largest[0, saturday] > 230  # all runs: the weekday ones set the largest
    assert largest[0, monday] == plain_largest[0, monday]  # weekday runs are the larger
    # Too few runs of the day's kind in the window: all runs, as without dates.
    sparse = y.copy()
    sparse[0, (np.arange(120) % 7 >= 5) & (np.arange(120) < saturday)] = 0.0
    level, _, _, _, _ = on_level(sparse, DetectorConfig(), dates)
    plain_level, _, _, _, _ = on_level(sparse, DetectorConfig())
    assert level[0, saturday] == plain_level[0, saturday]


def test_a_spike_over_a_weekend_on_a_dev_batch_job_is_found() -> None:
    """The job runs 400 USD on a Friday and ~215 on the weekend after (weekday runs ~250,
    weekend runs ~50; the bench's main config missed this shape): Friday alone is one run
    (never flagged on one day), Saturday's four times its weekend size confirms it, and the
    anomaly names the job."""
    y, dates = _dev_batch_job(120, 9)
    friday = next(d for d in range(95, 110) if d % 7 == 4)
    y[0, friday : friday + 3] = (400.0, 220.0, 210.0)
    y[0, friday + 3] = 0.0
    runs = {d: float(y[0, d]) for d in range(120) if y[0, d] > 0}
    found = detect(frames.make_frame(120, extra_rows=_batch_rows(120, runs)))
    hits = [a for a in found if a.root_causes and a.root_causes[0].ResourceId == "job-1"]
    assert [a.start for a in hits] == [frames.START + timedelta(days=friday + 1)]
    # Without the dates the weekend runs are measured against the weekday ones (~250), and
    # the same days pass: the control that the dates make the difference.
    ev = evaluate(y, DetectorConfig())
    assert not ev.flagged[0, friday : friday + 3].any()
    ev = evaluate(y, DetectorConfig(), dates)
    assert ev.flagged[0, friday + 1]


def _shifted_batch_job(days: int, shift_day: int, usd: float) -> tuple[np.ndarray, list[int]]:
    """A batch job running ~400 USD on about a third of the days; from ``shift_day`` on every
    day costs ``usd`` more (e.g. a volume left attached), so its idle days cost ``usd``. Also
    returns the idle days from ``shift_day`` on."""
    rng = np.random.default_rng(11)
    ran = rng.random(days) < 0.35
    y = np.where(ran, 400.0 * (1 + rng.normal(0, 0.05, days)), 0.0)
    y[shift_day:] += usd
    return y[None, :], [d for d in range(shift_day, days) if not ran[d]]


def test_spend_on_a_batch_jobs_idle_days_is_flagged_on_its_second_day_once(monkeypatch) -> None:
    """Session 10: a shift on a batch job adds a little to every day; its idle days then cost
    60 USD against runs of ~400. Each such day used to pass as a (small, ordinary) run. Now a
    "run" under OFF_LEVEL_SHARE of the run level is off-level: expected 0, never flagged on one
    day, flagged when the next day is off-level too. Once the window holds OFF_LEVEL_KNOWN such
    days the low spend is known and judged as a run: one anomaly, not one per cooldown."""
    days, shift_day = 200, 100
    y, idle = _shifted_batch_job(days, shift_day, 60.0)
    second = next(d for d in idle if d - 1 in idle)
    lone = [d for d in idle if d < second]
    ev = evaluate(y, DetectorConfig())
    assert ev.flagged[0, second] and ev.expected[0, second] == 0.0
    assert not ev.flagged[0, shift_day:second].any()  # a lone off-level day is never enough
    assert lone and (ev.expected[0, lone] == 0.0).all()
    # Known by the end of the window: the late idle days are runs again, not flagged.
    assert not ev.flagged[0, 150:].any() and (ev.expected[0, idle[-5:]] > 0).all()
    runs = {d: float(y[0, d]) for d in range(days) if y[0, d] > 0}
    found = detect(frames.make_frame(days, extra_rows=_batch_rows(days, runs)))
    hits = [a for a in found if a.root_causes and a.root_causes[0].ResourceId == "job-1"]
    assert [a.start for a in hits] == [frames.START + timedelta(days=second)]
    # The control: without the off-level rule the same days pass as small runs.
    monkeypatch.setattr(baseline_module, "OFF_LEVEL_SHARE", 0.0)
    assert not evaluate(y, DetectorConfig()).flagged[0, shift_day:].any()


def test_small_runs_the_job_already_had_are_not_off_level() -> None:
    """A job whose window already holds OFF_LEVEL_KNOWN small runs (a light variant it
    sometimes runs) is not flagged when two of them follow each other."""
    rng = np.random.default_rng(5)
    ran = rng.random(160) < 0.4
    y = np.where(ran, 400.0 * (1 + rng.normal(0, 0.05, 160)), 0.0)
    small = [95, 105, 118, 128, 140, 141]  # four small runs in the 56 days before the pair
    y[small] = 50.0
    ev = evaluate(y[None, :], DetectorConfig())
    assert not ev.flagged[0, 140:142].any()
    fresh = y.copy()
    fresh[small[:-2]] = 400.0  # the control: no earlier small runs, so the pair is flagged
    assert evaluate(fresh[None, :], DetectorConfig()).flagged[0, 141]

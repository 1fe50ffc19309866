"""Numeric kernels, configuration and input errors of the detector."""

from __future__ import annotations

import tracemalloc
import warnings
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from costguard_core.detection import DetectorConfig, confidence, detect, series
from costguard_core.detection import baseline as baseline_module
from costguard_core.detection.baseline import (
    catch_up_offset,
    drift_mean,
    evaluate,
    expected,
    lag1_autocorrelation,
    nanmedian_last,
    rising_days,
    weekly_median,
)
from costguard_core.detection.screen import may_run_after_idle
from costguard_core.detection.series import LEAF, prepare
from costguard_core.errors import InputError
from pydantic import ValidationError


def test_nanmedian_last_matches_numpy() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 30, 9))
    a[rng.random(a.shape) < 0.3] = np.nan
    a[0, 0, :] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmedian(a, axis=-1)
    np.testing.assert_allclose(nanmedian_last(a), want, equal_nan=True)


def test_expected_is_the_same_weekday_median_then_trailing_week() -> None:
    week = np.array([10.0, 10, 10, 10, 10, 2, 2])
    y = np.tile(week, 6)[None, :].copy()
    y[0, 28] = 500.0  # a one-off on a weekday four weeks in
    exp = expected(y, DetectorConfig())
    assert np.isnan(exp[0, :7]).all()
    assert exp[0, 7] == 10.0  # trailing-week median (fewer than two same weekdays yet)
    assert exp[0, 12] == 10.0  # trailing week says 10 for a Saturday ...
    assert exp[0, 19] == 2.0  # ... but from two weeks on the weekday median says 2
    assert exp[0, 35] == 10.0  # the one-off does not move a median of four weeks


def test_evaluation_of_a_day_reads_no_later_day() -> None:
    rng = np.random.default_rng(1)
    y = rng.gamma(5.0, 20.0, size=(30, 90))
    y[:10, :25] = np.nan  # series that start later
    y[3, 60:] += 400
    full = evaluate(y, DetectorConfig())
    for cut in (20, 45, 61, 75):
        part = evaluate(y[:, :cut], DetectorConfig())
        for name in ("expected", "excess", "z", "flagged"):
            np.testing.assert_array_equal(getattr(part, name), getattr(full, name)[:, :cut], name)
    # z ≈ 5.6 on the shift's first day: past the plain bound, below the single-day one, so the
    # rise is flagged when its second day confirms it.
    assert not full.flagged[3, 60] and full.flagged[3, 61]


def test_four_week_median_equals_the_median_of_the_lags_bit_for_bit() -> None:
    rng = np.random.default_rng(9)
    y = rng.gamma(2.0, 50.0, (300, 120))
    y[rng.random(y.shape) < 0.1] = np.nan  # missing days, and series starting late
    y[:40, :30] = np.nan
    y[40:80] = np.round(y[40:80] / 10)  # ties
    lags = np.full((*y.shape, 4), np.nan)
    for w in range(1, 5):
        lags[:, 7 * w :, w - 1] = y[:, : -7 * w]
    enough = np.count_nonzero(~np.isnan(lags), axis=-1) >= 2
    reference = np.where(enough, nanmedian_last(lags), np.nan)
    assert np.array_equal(weekly_median(y, 4), reference, equal_nan=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices outside ``enough``
        assert np.allclose(reference[enough], np.nanmedian(lags, axis=-1)[enough])
    # Another number of weeks takes the general path.
    assert np.isnan(weekly_median(y, 3)[:, :14]).all()


def _fee_pairs_by_calendar(days: np.ndarray) -> tuple[list[int], list[int]]:
    """``fees._fee_pairs`` as its docstring defines it, one day at a time with pandas' calendar
    arithmetic (the implementation before session 9)."""
    idx = {d: i for i, d in enumerate(days)}
    cols, prevs = [], []
    for i, stamp in enumerate(pd.DatetimeIndex(days)):
        from_end = stamp.days_in_month - stamp.day
        if stamp.day <= 3:
            day = (stamp - pd.DateOffset(months=1)).date()
        elif from_end < 3:
            last = stamp - pd.DateOffset(days=stamp.day)
            day = (last - pd.DateOffset(days=from_end)).date()
        else:
            continue
        prev = idx.get(np.datetime64(day, "D"))
        if prev is not None:
            cols.append(i)
            prevs.append(prev)
    return cols, prevs


def test_month_charge_pairs_match_the_calendar_on_leap_years_and_gaps() -> None:
    from costguard_core.detection.fees import _fee_pairs

    rng = np.random.default_rng(3)
    every = np.datetime64("2023-11-01") + np.arange(900)  # two Februaries, one of 29 days
    for keep in (1.0, 0.9, 0.5):
        days = every[rng.random(len(every)) < keep]
        cols, prevs = _fee_pairs(days.tobytes())
        want = _fee_pairs_by_calendar(days)
        assert (cols.tolist(), prevs.tolist()) == want
        assert keep < 1.0 or len(want[0]) > 150  # a month's first and last 3 days, 29 months


def test_drift_window_counts_a_sustained_rise_not_one_large_day() -> None:
    excess = np.array([[1.0, 2.0, 3.0, 100.0, 4.0, 5.0, 6.0, -1.0]])
    # Days 0..6: the largest (100) counted as the second largest (6).
    assert drift_mean(excess, 7)[0, 6] == pytest.approx((1 + 2 + 3 + 6 + 4 + 5 + 6) / 7)
    assert np.isnan(drift_mean(excess, 7)[0, 5])  # a window reaching before day 0
    assert rising_days(excess, 7)[0].tolist()[6:] == [7, 6]
    # A steady series, then one large day and a mildly raised one: the plain 7-day mean is
    # far past the drift bound, the winsorized one is not, and fewer than 5 days rose.
    rng = np.random.default_rng(5)
    y = 100.0 * (1 + rng.normal(0, 0.05, (1, 80)))
    y[0, 70] += 400.0
    y[0, 71] += 20.0
    config = DetectorConfig(single_day_z=1000.0, z_threshold=1000.0)  # drift rule alone
    assert not evaluate(y, config).flagged[0, 71]
    ramp = y.copy()
    ramp[0, 70] -= 400.0
    ramp[0, 60:] += np.minimum(np.arange(20) * 6.0, 60.0)  # a real drift over 10 days
    assert evaluate(ramp, config).flagged[0, 60:].any()


def _ar1(rng: np.random.Generator, shape: tuple[int, int], rho: float) -> np.ndarray:
    """Unit-variance AR(1) day noise with t(5) innovations, one row per series."""
    e = rng.standard_t(5, size=shape) / np.sqrt(5 / 3)
    x = np.empty(shape)
    x[:, 0] = e[:, 0]
    for d in range(1, shape[1]):
        x[:, d] = rho * x[:, d - 1] + np.sqrt(1 - rho * rho) * e[:, d]
    return x


def test_lag1_autocorrelation_reads_earlier_days_and_needs_persistence() -> None:
    rng = np.random.default_rng(21)
    judged = np.ones((300, 120), dtype=bool)
    persistent = lag1_autocorrelation(_ar1(rng, (300, 120), 0.8), judged, 28)
    independent = lag1_autocorrelation(rng.normal(size=(300, 120)), judged, 28)
    # ρ 0.8 less the 0.2 margin; independent days read 0 (the margin covers sampling noise
    # of 28 pairs in nine windows in ten).
    assert 0.45 < float(np.median(persistent[:, 60:])) < 0.7
    assert float(independent[:, 60:].mean()) < 0.03
    assert (independent[:, 60:] == 0).mean() > 0.85
    # Too few judged pairs: 0. The first 20 days never have 20 pairs before them.
    assert (persistent[:, :21] == 0).all()
    sparse = judged.copy()
    sparse[:, ::2] = False  # no two judged days in a row: no pairs at all
    assert (lag1_autocorrelation(_ar1(rng, (300, 120), 0.8), sparse, 28) == 0).all()
    # Day d reads days before d only: changing day d and later changes nothing up to d.
    z = _ar1(rng, (50, 120), 0.8)
    before = lag1_autocorrelation(z, judged[:50], 28)
    z[:, 70:] = rng.normal(size=(50, 50)) * 30
    after = lag1_autocorrelation(z, judged[:50], 28)
    np.testing.assert_array_equal(before[:, :71], after[:, :71])
    # A two-day spike in independent noise does not make its series look persistent (z is
    # clipped at 4; unclipped, the pair (60, 60) alone would read ρ ≈ 1).
    zi = rng.normal(size=(1, 120))
    zi[0, 80:82] = 60.0
    assert lag1_autocorrelation(zi, judged[:1], 28)[0, 82:110].max() < 0.3


def test_persistent_day_noise_raises_fewer_false_alarms_and_a_shift_is_still_found(
    monkeypatch,
) -> None:
    """Series whose day noise persists (AR(1), ρ 0.8: busy weeks, fleets that stay up) no
    longer confirm two raised days of noise as a rise, nor read a noisy week as a drift
    (session 19); on independent days the rules are the earlier ones."""
    rng = np.random.default_rng(11)
    persistent = 200.0 + 20.0 * _ar1(rng, (400, 150), 0.8)
    independent = 200.0 + 20.0 * rng.standard_t(5, size=(400, 150)) / np.sqrt(5 / 3)
    config = DetectorConfig()

    def alarms(y: np.ndarray) -> int:
        return int(evaluate(y, config).flagged[:, 60:].sum())

    now = alarms(persistent), alarms(independent)
    monkeypatch.setattr(baseline_module, "AR_MARGIN", 1.0)  # ρ is 0 everywhere: the old rules
    old = alarms(persistent), alarms(independent)
    assert now[0] * 3 < old[0], (now, old)
    assert now[1] == old[1], (now, old)
    monkeypatch.undo()
    # A shift of 250 USD/day (about 12 noise sd) on the persistent series is found within two
    # days on nearly every one of them.
    shifted = persistent.copy()
    shifted[:, 100:] += 250.0
    found = evaluate(shifted, config).flagged[:, 100:102].any(axis=1)
    assert found.mean() > 0.95, found.mean()


def test_a_catch_up_day_is_judged_net_of_the_shortfall_before_it(monkeypatch) -> None:
    """Session 20 (``baseline.catch_up_offset``): a steady series' missing day followed by a
    day carrying both days' spend is not an anomaly (it was one before); a spike beyond the
    catch-up still is; three missing days then four days' spend too; a batch job's idle days
    (an on/off series) give no offset; the offset reads days before d only."""
    rng = np.random.default_rng(5)
    y = 100.0 + rng.normal(0, 3.0, size=(1, 140))
    y[0, 80], y[0, 81] = 0.0, y[0, 80] + y[0, 81]  # an export's missing day, then both days
    y[0, 100], y[0, 101] = 0.0, y[0, 100] + y[0, 101] + 600.0  # ... and a spike with it
    y[0, 124:127] = 0.0
    y[0, 127] = 400.0
    config = DetectorConfig()
    flagged = evaluate(y, config).flagged[0]
    assert not flagged[81] and flagged[101] and not flagged[127]
    assert np.flatnonzero(flagged).tolist() == [101]  # and nothing else
    monkeypatch.setattr(baseline_module, "CATCH_UP", 1e9)  # no day is a clear shortfall
    before = evaluate(y, config).flagged[0]
    assert before[81] and before[127]
    monkeypatch.undo()
    # Offsets: the shortfall's USD on the day after it, within reach of 3 days only.
    ev = evaluate(y, config)
    judged = ~np.isnan(ev.z)
    offset = catch_up_offset(y, ev.excess, ev.z, judged, config)[0]
    assert offset[81] == pytest.approx(ev.excess[0, 80]) and offset[81] < -80
    assert offset[127] == pytest.approx(ev.excess[0, 124:127].sum())
    assert (offset <= 0).all() and np.count_nonzero(offset) == 1 + 1 + 3  # 81, 101, 125..127
    # Days after d do not change the offset on d.
    later = y.copy()
    later[0, 82:] = 5.0
    ev_later = evaluate(later, config)
    again = catch_up_offset(later, ev_later.excess, ev_later.z, ~np.isnan(ev_later.z), config)
    assert again[0, :82].tolist() == offset[:82].tolist()
    # A batch job running on about half the days: its idle days are its normal state.
    job = np.where(rng.random((1, 140)) < 0.5, 0.0, 300.0 + rng.normal(0, 10.0, size=(1, 140)))
    ev_job = evaluate(job, config)
    assert not catch_up_offset(job, ev_job.excess, ev_job.z, ~np.isnan(ev_job.z), config).any()


def test_confidence_is_half_at_the_bound_and_grows_towards_one() -> None:
    assert confidence(4.0, 4.0) == pytest.approx(0.5)
    values = [confidence(z, 4.0) for z in (4.0, 6.0, 8.0, 12.0, 1e6)]
    assert values == sorted(values) and all(0 <= v <= 1 for v in values)
    assert confidence(8.0, 4.0) == pytest.approx(1 - 0.5 * np.exp(-1))


def test_severity_tiers_and_config_validation() -> None:
    cfg = DetectorConfig()
    assert [cfg.severity(x) for x in (0, 99.99, 100, 999, 1000, 10_000)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "critical",
    ]
    with pytest.raises(ValidationError):
        DetectorConfig(severity_tiers_usd={"medium": 500, "high": 100, "critical": 1000})
    with pytest.raises(ValidationError):
        DetectorConfig(severity_tiers_usd={"high": 100})
    with pytest.raises(ValidationError):
        DetectorConfig(threshold=3)  # unknown knob
    with pytest.raises(ValidationError):
        DetectorConfig(combine="xor")


def _frame(**overrides: object) -> pd.DataFrame:
    rows = []
    for i in range(30):
        rows.append(
            {
                "ChargePeriodStart": date(2024, 3, 1) + timedelta(days=i),
                "ProviderName": "AWS",
                "BillingAccountId": None,
                "SubAccountId": None,
                "ServiceName": "Amazon S3",
                "RegionId": None,
                "ResourceId": None,
                "BillingCurrency": "USD",
                "EffectiveCost": Decimal("5.00") if i != 25 else Decimal("90.00"),
            }
        )
    frame = pd.DataFrame(rows)
    for column, (position, value) in overrides.items():
        frame.loc[position, column] = value
    return frame


def test_null_dimensions_are_fine_and_the_or_rule_is_looser() -> None:
    found = detect(_frame())
    assert [a.start for a in found] == [date(2024, 3, 26)]
    cause = found[0].root_causes[0]
    assert (cause.SubAccountId, cause.ResourceId, cause.share) == (None, None, 1.0)
    small = _frame(EffectiveCost=(25, Decimal("8.00")))  # +3 USD: 60 % but under 10 USD
    assert detect(small) == []
    assert len(detect(small, config=DetectorConfig(combine="or"))) == 1


def test_two_currencies_are_refused_naming_them() -> None:
    with pytest.raises(InputError, match="EUR, USD") as err:
        detect(_frame(BillingCurrency=(3, "EUR")))
    assert err.value.field == "BillingCurrency"


def test_non_numeric_cost_is_refused_naming_the_field() -> None:
    with pytest.raises(InputError, match="abc") as err:
        detect(_frame(EffectiveCost=(4, "abc")))
    assert err.value.field == "EffectiveCost"


def test_missing_column_and_empty_frame_are_refused() -> None:
    with pytest.raises(InputError, match="ServiceName"):
        detect(_frame().drop(columns=["ServiceName"]))
    with pytest.raises(InputError, match="no rows"):
        detect(_frame().iloc[:0])


def test_monitor_series_are_the_sums_of_their_rows() -> None:
    """``series.prepare``: each monitor's day is the sum of its rows' cost (several rows per
    leaf and day, missing days, a missing ServiceName, a provider starting later), NaN before
    its first row; leaf rows are their leaf's spend (session 20 sums over a dense leaf matrix
    instead of one scatter per monitor column)."""
    rng = np.random.default_rng(3)
    n = 4_000
    frame = pd.DataFrame(
        {
            "ChargePeriodStart": np.datetime64("2024-03-01") + rng.integers(0, 60, n),
            "ProviderName": rng.choice(["AWS", "Google Cloud", "Microsoft"], n),
            "SubAccountId": rng.choice([f"acct-{i}" for i in range(7)], n),
            "ServiceName": rng.choice(["EC2", "S3", "RDS", "Lambda", None], n),
            "RegionId": "r1",
            "ResourceId": rng.choice([f"res-{i}" for i in range(40)], n),
            "BillingAccountId": "ba",
            "EffectiveCost": rng.gamma(0.5, 30.0, n),
        }
    )
    frame.loc[frame["ProviderName"] == "Microsoft", "ChargePeriodStart"] += np.timedelta64(20, "D")
    prep = prepare(frame, "EffectiveCost")
    day = ((frame["ChargePeriodStart"] - frame["ChargePeriodStart"].min()).dt.days).to_numpy()
    for row, mon in enumerate(prep.monitors):
        if mon.column == LEAF:
            leaf = prep.leaves.loc[int(str(mon.value))]
            mask = np.ones(n, dtype=bool)
            for col, value in leaf.items():
                mask &= frame[col].isna().to_numpy() if value is None else (frame[col] == value)
        elif mon.column is None:
            mask = np.ones(n, dtype=bool)
        else:
            mask = (frame[mon.column] == mon.value).to_numpy()
        want = np.bincount(day[mask], frame["EffectiveCost"].to_numpy()[mask], len(prep.days))
        assert mon.first_day == day[mask].min(), mon
        assert np.isnan(prep.matrix[row, : mon.first_day]).all()
        np.testing.assert_allclose(prep.matrix[row, mon.first_day :], want[mon.first_day :])


def test_the_screen_finds_every_run_after_an_idle_day() -> None:
    """``screen.may_run_after_idle`` against its definition, day by day: a row qualifies when
    some day costs something and one of the ``width`` days before it cost 0 (NaN, before a
    series exists, is not a zero day)."""
    rng = np.random.default_rng(4)
    for _ in range(200):
        shape = (int(rng.integers(1, 12)), int(rng.integers(1, 90)))
        y = rng.choice([0.0, 1.5, 3.0, np.nan], size=shape, p=rng.dirichlet(np.ones(4)))
        width = int(rng.integers(0, 40))
        want = [
            any(
                y[r, t] > 0 and any(y[r, s] == 0 for s in range(max(0, t - width), t))
                for t in range(shape[1])
            )
            for r in range(shape[0])
        ]
        assert may_run_after_idle(y, width).tolist() == want


def _many_leaves(n_leaves: int, n_days: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 3 * n_leaves
    return pd.DataFrame(
        {
            "ChargePeriodStart": np.datetime64("2024-01-01") + rng.integers(0, n_days, n),
            "ProviderName": rng.choice(["AWS", "Google Cloud"], n),
            "SubAccountId": rng.choice([f"acct-{i}" for i in range(9)], n),
            "ServiceName": rng.choice(["EC2", "S3", "RDS", None], n),
            "RegionId": rng.choice(["r1", "r2"], n),
            "ResourceId": [f"res-{i}" for i in rng.integers(0, n_leaves, n)],
            "BillingAccountId": "ba",
            "EffectiveCost": rng.gamma(0.5, 30.0, n),
        }
    )


def test_monitors_without_leaf_monitors_are_the_same_sums(monkeypatch) -> None:
    """With leaf monitors off the monitors are summed block by block of leaves
    (``series._monitors_by_block``); every monitor row equals, to the bit, the row the dense
    path gives with leaf monitors on, whatever the block size (one leaf, a few, all)."""
    frame = _many_leaves(300, 50, seed=5)
    dense = prepare(frame, "EffectiveCost")
    n_monitors = sum(m.column != LEAF for m in dense.monitors)
    for cells in (1, 7 * 50, 1 << 22):
        monkeypatch.setattr(series, "BLOCK_CELLS", cells)
        blocks = prepare(frame, "EffectiveCost", leaf_monitors=False)
        assert blocks.monitors == dense.monitors[:n_monitors]
        np.testing.assert_array_equal(blocks.matrix, dense.matrix[:n_monitors])
        assert (blocks.leaf_parent == -1).all() and len(blocks.leaf_parent) == n_monitors


def test_leaf_monitors_off_never_hold_the_whole_leaf_matrix() -> None:
    """A frame of 80,000 leaves × 400 days (a dense matrix of 256 MB; with leaf monitors on,
    ``prepare`` peaks above 2 GB): with them off its peak traced allocation stays under half of
    that one matrix (measured: 81 MB, most of it the leaf table and the long table)."""
    frame = _many_leaves(80_000, 400, seed=6)
    tracemalloc.start()
    try:
        prep = prepare(frame, "EffectiveCost", leaf_monitors=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(prep.leaves) > 60_000 and len(prep.days) == 400
    assert peak < 80_000 * 400 * 8 / 2, peak


def test_pooled_grid_bins_equal_the_grid_search() -> None:
    from costguard_core.detection.pooled import _GRID, grid_bins

    rng = np.random.default_rng(3)
    u = np.concatenate(
        [
            rng.exponential(2.0, 200_000),
            rng.uniform(0.0, 40.0, 100_000),
            _GRID,
            np.nextafter(_GRID, np.inf),
            np.nextafter(_GRID[1:], 0.0),
            [0.0, 30.0, 30.125, 1e300, np.inf],
        ]
    )
    assert np.array_equal(grid_bins(u), np.searchsorted(_GRID, u, side="left"))


def test_leaves_in_equals_a_groupby_of_the_leaf_table() -> None:
    rows = [
        ("svc-a", "acct-1", "r1"),
        ("svc-b", "acct-1", "r2"),
        ("svc-a", "acct-2", "r3"),
        ("svc-a", None, "r4"),
        ("svc-c", "acct-2", "r5"),
    ]
    frame = pd.DataFrame(
        [
            {
                "ChargePeriodStart": pd.Timestamp("2024-01-01") + pd.Timedelta(days=d),
                "BillingCurrency": "USD",
                "ProviderName": "AWS",
                "BillingAccountId": "B",
                "ServiceName": svc,
                "SubAccountId": acct,
                "RegionId": "r",
                "ResourceId": res,
                "EffectiveCost": Decimal("10"),
            }
            for d in range(3)
            for svc, acct, res in rows
        ]
    )
    prep = prepare(frame, "EffectiveCost", 400, ("ServiceName", "SubAccountId"), True)
    for column in ("ServiceName", "SubAccountId"):
        expected = {
            value: sorted(prep.leaves.index[idx].tolist())
            for value, idx in prep.leaves.groupby(column, sort=False).indices.items()
        }
        monitors = [m for m in prep.monitors if m.column == column]
        assert {m.value for m in monitors} == set(expected)
        for m in monitors:
            ids = prep.leaves_in(m).tolist()
            assert ids == expected[m.value] and ids == sorted(ids)

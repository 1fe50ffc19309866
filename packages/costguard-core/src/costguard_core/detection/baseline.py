"""Numeric kernels of the seasonal robust baseline, vectorised over series (rows) and days.

Every array is ``(n_series, n_days)`` of floats, days ascending and consecutive; NaN marks a day
before the series existed. Each kernel looks only at columns strictly left of the day it
computes, which is what makes the detector free of look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.fees import MONTH_END_DAYS, MONTH_START_DAYS, month_start_fees
from costguard_core.detection.tails import (
    OFF_LEVEL_KNOWN,
    OFF_LEVEL_SHARE,
    OFF_SHARE,
    lagged_bool,
    new_spend,
    on_level,
    relative_mad,
    size_ok,
    tail_bound,
)
from costguard_core.detection.windows import MAD_TO_SIGMA, nanmedian_last, past_sum, past_windows

__all__ = ["MAD_TO_SIGMA", "Baseline", "Evaluation", "baseline", "evaluate", "expected"]
__all__ += [
    "MONTH_END_DAYS",
    "MONTH_START_DAYS",
    "month_start_fees",
    "nanmedian_last",
    "tail_bound",
]

#: Rows evaluated at once; bounds the (rows × days × window) temporaries to a few tens of MB.
CHUNK_ROWS = 256


def weekly_median(y: np.ndarray, weeks: int) -> np.ndarray:
    """Median of the same weekday over the last ``weeks`` weeks; NaN until two such days exist
    (one day is too jumpy to be a baseline)."""
    n, t = y.shape
    if weeks == 4:
        return _weekly_median4(y)
    lags = np.full((n, t, weeks), np.nan)
    for w in range(1, weeks + 1):
        if 7 * w < t:
            lags[:, 7 * w :, w - 1] = y[:, : -7 * w]
    enough = np.count_nonzero(~np.isnan(lags), axis=-1) >= 2
    return np.where(enough, nanmedian_last(lags), np.nan)


def _weekly_median4(y: np.ndarray) -> np.ndarray:
    """``weekly_median`` for 4 weeks without a (series × days × weeks) sort: the four lags go
    through a 5-comparator sorting network (missing days as +inf, so they sort last) and the
    median is read as ``nanmedian_last`` reads it, (ordered[lo] + ordered[hi]) / 2 — the same
    floating-point result, several times faster on 10,000 series."""
    n, t = y.shape
    lag = []
    for w in range(1, 5):
        a = np.full((n, t), np.inf)
        if 7 * w < t:
            a[:, 7 * w :] = np.where(np.isnan(y[:, : -7 * w]), np.inf, y[:, : -7 * w])
        lag.append(a)
    valid = sum((a != np.inf).astype(np.int8) for a in lag)
    s0, s1, s2, s3 = lag
    for i, j in ((0, 1), (2, 3), (0, 2), (1, 3), (1, 2)):
        lo_, hi_ = (s0, s1, s2, s3)[i], (s0, s1, s2, s3)[j]
        pair = np.minimum(lo_, hi_), np.maximum(lo_, hi_)
        s0, s1, s2, s3 = [
            pair[0] if k == i else pair[1] if k == j else v for k, v in enumerate((s0, s1, s2, s3))
        ]
    # valid 4: lo 1, hi 2; valid 3: 1, 1; valid 2: 0, 1 (fewer: NaN, as weekly_median).
    with np.errstate(invalid="ignore"):
        med = np.where(
            valid == 4, (s1 + s2) / 2, np.where(valid == 3, (s1 + s1) / 2, (s0 + s1) / 2)
        )
    return np.where(valid >= 2, med, np.nan)


def trailing_median(y: np.ndarray) -> np.ndarray:
    """Median of the 7 days before each day; NaN until 7 such days exist."""
    window = past_windows(y, 7)
    full = np.count_nonzero(~np.isnan(window), axis=-1) == 7
    return np.where(full, nanmedian_last(window), np.nan)


def robust_scale(residuals: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Robust spread of the residuals of the ``scale_window_days`` days before each day.

    The larger of 1.4826 × MAD and (90th percentile − median) / 1.2816 of the residuals of
    twice that window: both estimate one
    standard deviation for normal residuals, but the upper-tail one also covers series whose
    normal life has bursts (intermittent batch jobs: MAD ≈ 0 while one day in five is large),
    and it grows once a new level has lasted about three days in the window, which is how a
    level shift is alerted once and then adapted to. NaN where fewer than ``min_scale_points``
    residuals exist in that window.
    """
    windows = past_windows(residuals, config.scale_window_days)
    points = np.count_nonzero(~np.isnan(windows), axis=-1)
    centre = nanmedian_last(windows)
    mad = nanmedian_last(np.abs(windows - centre[..., None]))
    # The tail looks twice as far back: sparse batch jobs need a few runs in view.
    tails = past_windows(residuals, 2 * config.scale_window_days)
    ordered = np.sort(tails, axis=-1)  # NaN sorts last
    valid = np.maximum(np.count_nonzero(~np.isnan(tails), axis=-1) - 1, 0)

    def at(q: float) -> np.ndarray:
        pos = q * valid
        lo = np.floor(pos).astype(int)[..., None]
        hi = np.ceil(pos).astype(int)[..., None]
        frac = (pos - np.floor(pos))[..., None]
        a = np.take_along_axis(ordered, lo, axis=-1)
        b = np.take_along_axis(ordered, hi, axis=-1)
        return (a + (b - a) * frac)[..., 0]

    tail = (at(0.9) - at(0.5)) / 1.2816
    return np.where(points >= config.min_scale_points, np.fmax(MAD_TO_SIGMA * mad, tail), np.nan)


@dataclass(frozen=True)
class Baseline:
    """Expected spend and the robust scale of its residuals, per series and day."""

    expected: np.ndarray
    scale: np.ndarray  # NaN until ``min_scale_points`` residuals exist
    running: np.ndarray  # judged as an on/off series' run (``tails.on_level``)
    #: Expected spend for a day confirming the day before's rise: on a batch job's run day a
    #: run no larger than the largest run *before yesterday* gets that run (``expected`` uses
    #: the largest run including yesterday's, which would hide a rise lasting two days).
    confirming: np.ndarray


def _expected(y: np.ndarray, config: DetectorConfig, days: np.ndarray | None) -> np.ndarray:
    weekly = weekly_median(y, config.season_weeks)
    # The trailing model fills only the days the weekday one cannot (a series' first two
    # weeks); computing it for those columns alone saves most of its cost.
    cols = np.flatnonzero(np.isnan(weekly).any(axis=0))
    exp = weekly.copy()
    if len(cols):
        trailing = trailing_median(y[:, : cols.max() + 1])[:, cols]
        exp[:, cols] = np.where(np.isnan(weekly[:, cols]), trailing, weekly[:, cols])
    return exp + month_start_fees(y, exp, days)


def baseline(y: np.ndarray, config: DetectorConfig, days: np.ndarray | None = None) -> Baseline:
    """Expected spend per day from earlier days only, and the scale of its residuals.

    Expected is the weekday median (``weekly_median``) once two same weekdays exist, before that
    the trailing-week median (``trailing_median``), plus the month-start fee the series had on
    the same day last month when ``days`` (the column dates) are given (with them, too, a batch
    job's run is judged against runs on the same kind of day, ``tails.on_level``). Both are
    medians, so a few anomalous days in the history do not move them; a lasting level shift
    becomes the new normal after about half of ``season_weeks``.
    """
    exp = _expected(y, config, days)
    scale = robust_scale(y - exp, config)
    # Noise grows with spend: on a series whose level moves (weekdays vs weekends) one absolute
    # spread understates the busy days' noise. The spread of residuals relative to expected,
    # times today's expected, covers that; the absolute one still covers additive noise.
    with np.errstate(invalid="ignore", divide="ignore"):
        relative = np.where(exp > 0, (y - exp) / exp, np.nan)
    rel = relative_mad(relative, config) * exp
    scale = np.where(np.isnan(rel), scale, np.fmax(scale, rel))
    on_exp, on_scale, on_max, on_earlier, on_low = on_level(y, config, days)
    # An on/off series (a batch job) is judged, on the days it runs, against its usual run.
    running = ~np.isnan(on_exp) & (y > 0)
    # A run no larger than the largest of the window's runs is ordinary whatever its z: with n
    # exchangeable runs the newest is the largest with probability 1/(n + 1) only. Such a run
    # gets the largest run as its expected spend, so its excess is not positive.
    ordinary = running & (y <= on_max)
    expected = np.where(ordinary, on_max, np.where(running, on_exp, exp))
    earlier = running & (y <= on_earlier)
    # Off-level spend (session 10): a "run" far below the job's usual run, on a job whose
    # window holds few such days, is spend on a day it would idle, e.g. a shift adding a
    # constant to every day. Expected 0; still a run, so never flagged on one day: the
    # two-day rule flags it when the next day is off-level too. Once the window holds
    # OFF_LEVEL_KNOWN such days the low spend is a known state and judged as a run again.
    with np.errstate(invalid="ignore"):
        off = running & (y < OFF_LEVEL_SHARE * on_exp) & (on_low < OFF_LEVEL_KNOWN)
    return Baseline(
        expected=np.where(off, 0.0, expected),
        scale=np.where(off, 0.0, np.where(running, on_scale, scale)),
        running=running,
        confirming=np.where(
            off, 0.0, np.where(earlier, on_earlier, np.where(running, on_exp, exp))
        ),
    )


def expected(y: np.ndarray, config: DetectorConfig, days: np.ndarray | None = None) -> np.ndarray:
    """The expected spend of ``baseline`` alone (USD per day, NaN where no model applies)."""
    return baseline(y, config, days).expected


@dataclass(frozen=True)
class Evaluation:
    """Per series and day: expected spend, excess (actual − expected), robust z, anomalous flag,
    and whether the flag rests on the single-day bound alone (no two-day, drift or new-spend
    rule holds that day)."""

    expected: np.ndarray
    excess: np.ndarray
    z: np.ndarray
    flagged: np.ndarray
    single: np.ndarray


def _lagged(a: np.ndarray, lag: int) -> np.ndarray:
    """``a`` shifted right by ``lag`` days (NaN in the first ``lag``)."""
    out = np.full(a.shape, np.nan)
    out[:, lag:] = a[:, : a.shape[1] - lag]
    return out


def _to_date(a: np.ndarray, width: int, step, init=None) -> np.ndarray:
    """Fold ``step(acc, day)`` over days d-width+1 .. d, oldest first, for each day d; the
    fold starts from ``init(oldest day)`` (default: that day itself). Shifted slices instead
    of a (series × days × width) window. Returns the folds of days width-1 .. T-1 (fewer
    days than ``width``: an empty fold); callers pad the first width-1 days with NaN."""
    t = a.shape[1]
    oldest = a[:, : max(t - width + 1, 0)]
    acc = oldest.copy() if init is None else init(oldest)
    for k in range(1, width):
        acc = step(acc, a[:, k : k + oldest.shape[1]])
    return acc


def _padded(fold: np.ndarray, t: int) -> np.ndarray:
    """A fold of days width-1 .. t-1 as ``(n, t)``, NaN in the first days."""
    out = np.full((fold.shape[0], t), np.nan)
    out[:, t - fold.shape[1] :] = fold
    return out


def _sum_to_date(a: np.ndarray, width: int) -> np.ndarray:
    """Sum of days d-width+1 .. d, added oldest first (NaN unless all are numbers)."""
    return _padded(_to_date(a, width, np.add), a.shape[1])


def mean_to_date(a: np.ndarray, width: int) -> np.ndarray:
    """Mean of days d-width+1 .. d for each day d (NaN unless all are numbers); the same
    floating-point result as numpy's mean over each window."""
    return _sum_to_date(a, width) / width


#: Days of a drift window (``drift_window_days``, 7) that must be above expected.
DRIFT_RISING_DAYS = 5


def drift_mean(excess: np.ndarray, width: int) -> np.ndarray:
    """Mean excess of days d-width+1 .. d with the largest counted as the second largest
    (winsorized: one large day cannot make a drift); NaN unless all are numbers."""
    if width < 2:
        return mean_to_date(excess, width)

    def top_two(acc: np.ndarray, day: np.ndarray) -> np.ndarray:  # (largest, second) so far
        return np.stack([np.maximum(acc[0], day), np.maximum(acc[1], np.minimum(acc[0], day))])

    def start(oldest: np.ndarray) -> np.ndarray:
        return np.stack([oldest, np.full(oldest.shape, -np.inf)])

    largest, second = _to_date(excess, width, top_two, start)
    t = excess.shape[1]
    return (_sum_to_date(excess, width) - _padded(largest, t) + _padded(second, t)) / width


#: The two-day rule's bounds, as multiples of ``z_threshold`` (4): the first day's z must pass
#: 1.25 × (5), the confirming day's 0.75 × (3). Session 13: the symmetric rule (4 and 4) missed
#: spikes lasting two days whose second day is smaller (a spike of 15 then 5.5 true noise
#: scales read z 10.7 then 2.8 against the detector's scale), and noise rarely gives a first
#: day past 5 followed by one past 3 (for tails like t(3.5), about as rarely as 4 twice: the
#: products 5 × 3 and 4 × 4 are close). Development configs, false alarms + misses: 4/4
#: 167, 5/3 160, 4.5/3 161, 5.5/3 162, 6/3 166, 5/3.5 163, 5/2.5 164, 4/3 163 (with the pool
#: change below, ``pooled.POOLED_RUN_CUT``, 158); bench/README.md "What was tuned on what
#: (session 13)".
TWO_DAY_FIRST = 1.25
TWO_DAY_SECOND = 0.75
#: The three-day rule's bound, as a multiple of ``z_threshold`` (session 15): on a leaf monitor
#: a day whose z passes 0.75 × (3, the confirming day's bound) after two days that did too is
#: anomalous (reported on the third day; a spike or loop of three days, or a leaf's shift or
#: drift, whose days each stay under the two-day rule's first bound of 5). Leaf monitors only:
#: a monitor summing many leaves sees three days of small joint rises (growth, a season).
#: Development lines (false alarms + misses, eleven lines; bench/README.md "What was tuned on
#: what (session 15)"): 202 without the rule; bound 0.625/0.7/0.75/0.8/0.875: 197 (65 + 132)/
#: 197/**197** (62 + 135)/198/199; on every monitor at 0.75: 200 (65 + 135).
THREE_DAY = 0.75


#: Autocorrelation-aware confirmation and drift (session 19; bench/README.md "What was tuned on
#: what (session 18)" steps 4-7 and "(session 19)"). Cloud spend's day noise often persists (a
#: busy week, an autoscaled fleet that stays up): a high day makes a high next day likely, so
#: two raised days in a row are weaker evidence than under independent days, and a mean of w
#: days varies more. The lag-1 autocorrelation ρ of a series' z over the ``scale_window_days``
#: (28) days before each day, from z clipped at ±``AR_CLIP`` (one spike must not make its
#: series look persistent), needs ``AR_MIN_PAIRS`` day pairs (else 0), is lowered by
#: ``AR_MARGIN`` for its sampling noise (about 1/√28 ≈ 0.19 under independent days) and kept
#: within [0, ``AR_MAX``]. Under independent day noise ρ is 0 and both rules are the earlier
#: ones. Margin 0.2 was chosen on development lines (session 17: 0 / 0.1 / 0.2 gave old-family
#: lines 199 / 198 / 196); judged on fresh lines written before scoring (session 19): the
#: independent generators 391 → 337 false alarms + misses, old-family holdouts 760 → 756.
AR_CLIP = 4.0
AR_MIN_PAIRS = 20
AR_MARGIN = 0.2
AR_MAX = 0.9


def lag1_autocorrelation(z: np.ndarray, judged: np.ndarray, window: int) -> np.ndarray:
    """Per series and day d: the lag-1 autocorrelation of z over the day pairs (d'-1, d') with
    both days judged and d' in the ``window`` days before d, z clipped at ±``AR_CLIP``; minus
    ``AR_MARGIN``, within [0, ``AR_MAX``]; 0 with fewer than ``AR_MIN_PAIRS`` pairs. Uses days
    before d only (no look-ahead). Dimensionless, ``(n_series, n_days)``."""
    zc = np.where(judged, np.clip(np.nan_to_num(z), -AR_CLIP, AR_CLIP), np.nan)
    prev = _lagged(zc, 1)
    pair = ~np.isnan(zc) & ~np.isnan(prev)
    a = np.where(pair, prev, 0.0)
    b = np.where(pair, zc, 0.0)

    n = past_sum(pair.astype(float), window)
    sa, sb = past_sum(a, window), past_sum(b, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = past_sum(a * b, window) - sa * sb / n
        var_a = past_sum(a * a, window) - sa * sa / n
        var_b = past_sum(b * b, window) - sb * sb / n
        rho = cov / np.sqrt(var_a * var_b)
    rho = np.where((n >= AR_MIN_PAIRS) & np.isfinite(rho), rho, 0.0)
    return np.clip(rho - AR_MARGIN, 0.0, AR_MAX)


#: Catch-up days (session 20; bench/README.md "What was tuned on what (session 20)"). Spend
#: that only makes up for a shortfall just before it is not new money: a billing export that
#: misses a day and carries both days' charges on the next, a job that failed one night and
#: ran twice the next. Up to ``CATCH_UP_DAYS`` days in a row before d, each a clear shortfall
#: (z below −``CATCH_UP`` × ``z_threshold``) on a series that was not on/off before it (under
#: ``tails.OFF_SHARE`` of the days its tail window holds cost nothing: a batch job's idle day
#: is its normal state), offset day d's excess in the single-day, two-day and three-day
#: rules' tests. Development lines (false alarms + misses): the old family 195 → 195 (every
#: line unchanged), the independent generators' k2 157 → 35, ind1–3 and k1 unchanged;
#: unchanged for bounds 3, 4 or 5 and for 1 or 3 days.
CATCH_UP = 1.0
CATCH_UP_DAYS = 3


def catch_up_offset(
    y: np.ndarray,
    excess: np.ndarray,
    z: np.ndarray,
    judged: np.ndarray,
    config: DetectorConfig,
    missing: np.ndarray | None = None,
) -> np.ndarray:
    """Per series and day d, the shortfall (USD, ≤ 0) of the run of clear-shortfall days that
    ends the day before d (at most ``CATCH_UP_DAYS``; see ``CATCH_UP``); 0 where there is none.
    ``y``, ``excess`` and ``z`` are ``(n_series, n_days)`` spend, excess over expected (USD)
    and robust z; ``judged`` marks the days a decision is made on. ``missing`` (USD, > 0 on an
    export gap's days, ``exportgaps``): such a day is a shortfall of that much whatever its z
    (its spend was filled in, so its own excess says nothing). Days before d only."""
    n_days = y.shape[1]
    window = config.tail_window_days
    # Not on/off before the day (``tails.on_level``'s share, of the days the window holds).
    steady = past_sum((y <= 0).astype(float), window) < OFF_SHARE * past_sum(
        (~np.isnan(y)).astype(float), window
    )
    with np.errstate(invalid="ignore"):
        short = judged & steady & (excess < 0) & (z < -CATCH_UP * config.z_threshold)
    if missing is not None:
        short |= missing > 0
        excess = gap_excess(excess, missing)
    offset = np.zeros(y.shape)
    run = np.ones(y.shape, dtype=bool)
    for k in range(1, CATCH_UP_DAYS + 1):
        run[:, k:] &= short[:, : n_days - k]
        run[:, :k] = False
        offset[:, k:] += np.where(run[:, k:], excess[:, : n_days - k], 0.0)
    return offset


def gap_excess(excess: np.ndarray, missing: np.ndarray | None) -> np.ndarray:
    """``excess`` with each export gap's day (``missing`` > 0, ``exportgaps``) read as the
    shortfall it was: minus the spend the gap did not show (USD)."""
    return excess if missing is None else np.where(missing > 0, -missing, excess)


def rising_days(excess: np.ndarray, width: int) -> np.ndarray:
    """How many of days d-width+1 .. d have a positive excess (0 in the first width-1 days)."""
    up = (excess > 0).astype(float)
    return np.nan_to_num(_sum_to_date(up, width)).astype(int)


def _evaluate_chunk(
    y: np.ndarray,
    config: DetectorConfig,
    days: np.ndarray | None,
    ref: np.ndarray | None,
    replaced: np.ndarray | None,
    single_factor: np.ndarray | None,
    leaf: bool = False,
    missing: np.ndarray | None = None,
    short_ref: np.ndarray | None = None,
) -> Evaluation:
    base = baseline(y, config, days)
    exp, scale = base.expected, base.scale
    excess = y - exp
    floored = np.fmax(
        np.fmax(scale, config.rel_scale_floor * np.abs(exp)), config.abs_scale_floor_usd
    )
    history = np.cumsum(~np.isnan(y), axis=1) - (~np.isnan(y))
    judged = (history >= config.min_history_days) & ~np.isnan(exp) & ~np.isnan(scale)
    w = config.drift_window_days
    # The percent threshold's reference: the series' own expected, or a parent's (leaf rows).
    pct_ref = exp if ref is None else np.where(np.isnan(ref), exp, ref)
    # The one- and two-day rules' own reference, when they have one (``short_ref``).
    short_pct_ref = pct_ref if short_ref is None else np.where(np.isnan(short_ref), exp, short_ref)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = excess / floored
        # A day making up for a clear shortfall just before it (a billing export's missing
        # day, then both days' charges) is judged net of that shortfall (session 20).
        net = excess + catch_up_offset(y, excess, z, judged, config, missing)
        z_net = net / floored
        big = judged & (net > 0) & size_ok(net, pct_ref, config)
        # The one- and two-day rules: a short rise, material against ``short_ref`` when given.
        short = big
        if short_ref is not None:
            short = judged & (net > 0) & size_ok(net, short_pct_ref, config)
        moderate = short & (z_net > config.z_threshold * TWO_DAY_FIRST)
        # One day is enough when it passes the series' own tail bound; a day past the plain
        # bound only is confirmed by the day before it (a persisting rise, not one noisy draw).
        # The frame's pooled tail (``pooled.pooled_factor``) raises the single-day bound on
        # heavy-tailed data. The series' own tail bound matters only where z passes that.
        if single_factor is None:
            fixed = np.asarray(config.single_day_z)
        elif single_factor.ndim == 2:  # per row and day (several billing accounts)
            fixed = config.single_day_z * single_factor
        else:
            fixed = config.single_day_z * single_factor[None, :]
        single = np.fmax(tail_bound(z, config, short & (z_net > fixed)), fixed)
        # A batch job's run is judged against its few past runs (``tails.on_level``): from n
        # exchangeable runs nothing distribution-free says one run is far out at the level a
        # single-day alarm needs (the newest is the largest with probability 1/(n + 1)), so a
        # run is never flagged on one day alone; a rise of the job shows on a second run day
        # or in the lasting monitors above it (round 5).
        one_day = short & (z_net > single) & ~base.running
        # The day confirming yesterday's rise is judged against the runs before that rise
        # (``Baseline.confirming``; the same as ``expected`` on series that are not on/off).
        c_excess = y - base.confirming
        # Under persistent (autocorrelated) day noise a high day makes a high next day likely,
        # so the confirming day is judged on what yesterday does not explain: its innovation
        # (z_t − ρ·z'_(t−1)) / √(1 − ρ²), z' yesterday's z within [0, single_day_z]: a day
        # past the single-day bound is not noise, and noise is all that carries over.
        rho = lag1_autocorrelation(z, judged, config.scale_window_days)
        carried = rho * np.clip(_lagged(z, 1), 0.0, config.single_day_z)
        innovation = (c_excess / floored - carried) / np.sqrt(1.0 - rho * rho)
        confirm = (
            judged
            & (c_excess > 0)
            & size_ok(c_excess, short_pct_ref, config)
            & (innovation > config.z_threshold * TWO_DAY_SECOND)
        )
        flagged = one_day | (confirm & lagged_bool(moderate))
        # A leaf's rise lasting three days, each past the confirming day's bound: one
        # resource's spend seldom stays up three days in a row by noise (session 15).
        three = np.zeros(y.shape, dtype=bool)
        if leaf:
            up = judged & (excess > 0) & (z > config.z_threshold * THREE_DAY)
            three = big & up & lagged_bool(up) & lagged_bool(lagged_bool(up))
        # Drift: the mean excess of the last w days, against the scale as it was before them
        # (so the drift's own days cannot inflate it), and big enough in USD/percent terms.
        # A drift is a sustained rise, not one large day (session 3): the mean counts the
        # window's largest excess as its second largest, and at least DRIFT_RISING_DAYS of
        # the w days must be above expected. Before, one heavy-tailed excursion followed by a
        # mildly raised day read as a drift, and a drift run skips the single-day checks.
        # An export gap's day counts as the shortfall it was, so a gap and the day carrying
        # its charges cancel in the window as they did in the raw rows.
        w_excess = gap_excess(excess, missing)
        mean_excess = drift_mean(w_excess, w)
        mean_exp = mean_to_date(pct_ref, w)
        before = _lagged(floored, w)
        # The mean of w days of AR(1) noise varies √((1 + ρ)/(1 − ρ)) times as much as that of
        # w independent days (large w); ρ as it was before the window.
        rho_w = np.nan_to_num(_lagged(rho, w))
        inflation = np.sqrt((1.0 + rho_w) / (1.0 - rho_w))
        drifting = (
            judged
            & (history >= config.min_history_days + w)
            & (excess / before > config.drift_z)
            & (mean_excess / before > config.drift_z * inflation)
            & size_ok(mean_excess, mean_exp, config)
            & (rising_days(w_excess, w) >= min(DRIFT_RISING_DAYS, w))
        )
        own_rows = leaf and ref is None
        lasting = np.flatnonzero((three | drifting).any(axis=1) & own_rows)
        if len(lasting):
            # A resource judged against itself (``leaf_percent_of`` resource or lasting): a
            # return to its usual level after a dip of a week or two (stopped, then restarted)
            # is not a rise, though the 4-week weekday median still holds the dip. Its lasting
            # rules' day must also pass the size test above the same weekday's median over
            # twice as many weeks (session 23). Only the rows those rules flag are read.
            level = weekly_median(y[lasting], 2 * config.season_weeks)
            above = size_ok(y[lasting] - np.fmax(exp[lasting], level), pct_ref[lasting], config)
            three[lasting] &= above
            drifting[lasting] &= above
        flagged |= three
    # New spend: a series that appeared after the data's first min_history_days days has no
    # baseline yet; its whole spend is excess, flagged once it has lasted two days.
    # A day flagged as confirming reports its excess over the runs before the rise.
    swap = confirm & lagged_bool(moderate) & ~one_day
    exp = np.where(swap, base.confirming, exp)
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(swap, c_excess, excess)
        z = np.where(swap, c_excess / floored, z)
    young, fresh = new_spend(y, history, pct_ref, replaced, config)
    # A young series' expected spend is what the resources it replaced cost (churn), else 0.
    exp = np.where(young, 0.0 if replaced is None else replaced, exp)
    excess = np.where(young, y - exp, excess)
    z = np.where(young, np.inf, z)
    other = (confirm & lagged_bool(moderate)) | drifting | fresh | three
    return Evaluation(
        expected=exp,
        excess=excess,
        z=z,
        flagged=flagged | drifting | fresh,
        single=flagged & ~other,
    )


def evaluate(
    y: np.ndarray,
    config: DetectorConfig,
    days: np.ndarray | None = None,
    ref: np.ndarray | None = None,
    replaced: np.ndarray | None = None,
    single_factor: np.ndarray | None = None,
    leaf: bool = False,
    missing: np.ndarray | None = None,
    short_ref: np.ndarray | None = None,
) -> Evaluation:
    """Judge every day of every series; rows are processed in chunks to bound memory.

    ``days`` (the columns' dates) enables the month-start fee model and judges a batch job's
    run against runs on the same kind of day (``tails.on_level``); without it neither is used.
    ``ref`` (same shape as ``y``, NaN = none) replaces a row's own expected spend as the
    reference of the percent threshold (leaf rows use their service's); ``replaced`` (same
    shape, USD/day, ``churn.replaced_spend``) is what resources a new leaf replaced cost, which
    its new spend is judged net of (``tails.new_spend``).
    ``single_factor`` (≥ 1; per day, ``pooled.pooled_factor``, or per row and day,
    ``pooled.account_factors``) multiplies ``single_day_z``. ``leaf``: the rows are leaf
    monitors (one resource each), which the three-day rule (``THREE_DAY``) applies to.
    ``missing`` (same shape, USD): what an export gap did not show (``exportgaps``), which the
    days after it are judged net of (``catch_up_offset``).
    ``short_ref`` (same shape as ``y``, NaN = the row's own expected spend): the percent
    reference of the one- and two-day rules only; ``ref`` then serves the rules that need a
    lasting rise (three days, drift, new spend). Leaf rows under
    ``MonitorsConfig.leaf_percent_of="lasting"``: a resource's short rise must be material to
    its service and account, a lasting one to the resource itself.
    """

    def part(a: np.ndarray | None, i: int) -> np.ndarray | None:
        return None if a is None else a[i : i + CHUNK_ROWS]

    def factor_part(i: int) -> np.ndarray | None:
        if single_factor is None or single_factor.ndim == 1:
            return single_factor
        return single_factor[i : i + CHUNK_ROWS]

    parts = [
        _evaluate_chunk(
            y[i : i + CHUNK_ROWS],
            config,
            days,
            part(ref, i),
            part(replaced, i),
            factor_part(i),
            leaf,
            part(missing, i),
            part(short_ref, i),
        )
        for i in range(0, len(y), CHUNK_ROWS)
    ]
    if not parts:
        empty = np.empty(y.shape)
        none = np.zeros(y.shape, dtype=bool)
        return Evaluation(empty, empty, empty, none, none)
    return Evaluation(
        **{
            name: np.concatenate([getattr(p, name) for p in parts])
            for name in Evaluation.__dataclass_fields__
        }
    )

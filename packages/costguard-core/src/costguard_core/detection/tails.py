"""Heavy tails and on/off series: how far a single day must rise, and batch-job run levels.

Both read only days before the day they compute (``past_windows``).
"""

from __future__ import annotations

import numpy as np

from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.windows import MAD_TO_SIGMA, nanmedian_last, past_windows

#: Share of zero days in the tail window from which a series is treated as on/off.
OFF_SHARE = 0.2
#: Runs needed in the on/off window before a run level is trusted.
MIN_RUNS = 3
#: The on/off window is this many tail windows (round 4: a job running every 3–4 weeks has
#: only two runs in 56 days, so each run was judged against an expected 0).
ON_WINDOWS = 2
#: A run day costing under this share of the job's run level is *off-level*: spend on a day the
#: job would idle (session 10, ``baseline.baseline``).
OFF_LEVEL_SHARE = 0.3
#: Off-level days the window may already hold for a new one to count: with this many the low
#: spend is a known state of the job (a shift alerted once, or small runs), judged as a run.
OFF_LEVEL_KNOWN = 2


def on_window_days(config: DetectorConfig) -> int:
    """Days before d that ``on_level`` reads: ``ON_WINDOWS`` × ``tail_window_days``."""
    return ON_WINDOWS * config.tail_window_days


def on_level(
    y: np.ndarray, config: DetectorConfig, days: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Run level, its spread, the largest run, the largest run before yesterday and the count
    of off-level days in the window for intermittent (on/off) series, NaN elsewhere; each
    ``(n_series, n_days)``, USD (the count: days).

    A series is on/off on day d when at least ``OFF_SHARE`` of its ``tail_window_days`` days
    before d cost nothing and at least ``MIN_RUNS`` cost something. Its run level is the median
    of those positive days and the spread 1.4826 × their MAD: a batch job that runs on random
    days is judged against its usual run when it runs, so each run is not an anomaly, while a
    run that costs far more than usual is. (A change of the run *frequency* alone is not
    judged here; the monitors containing the job see it as a rise of their level.)

    With ``days`` (the columns' dates, ``datetime64[D]``) a run on a Saturday or Sunday is
    judged against the window's weekend runs and a weekday run against its weekday runs, when
    the window holds at least ``MIN_RUNS`` runs of that kind (session 7): a dev account's job
    runs smaller at weekends, and against its weekday runs a weekend run several times its
    usual size passed as ordinary (on the development configs: 9 fewer misses, 2 more false
    alarms; bench/README.md "What was tuned on what (session 7)").

    The count is of the window's runs (of the same kind of day where those are used) under
    ``OFF_LEVEL_SHARE`` × the run level: how often the job already spent a little on a day it
    did not really run (``baseline.baseline``).
    """
    out = np.full((5, *y.shape), np.nan)
    # Only series with a zero day can be on/off, and the run level is only used on days the
    # series runs: computing it at those cells alone keeps long, mostly idle series cheap.
    has_zero = np.asarray((y <= 0).any(axis=1))
    rows, cols = np.nonzero(has_zero[:, None] & (y > 0))
    if not len(rows):
        return out[0], out[1], out[2], out[3], out[4]
    long = cell_windows(y, rows, cols, on_window_days(config))
    short = long[:, -config.tail_window_days :]
    # The tail window, or, when it holds fewer than MIN_RUNS runs (a job running every few
    # weeks), the longer on/off window: the shortest of the two that knows the job's runs.
    sparse = np.count_nonzero(short > 0, axis=-1) < MIN_RUNS
    windows = np.where(
        sparse[:, None],
        long,
        np.pad(short, ((0, 0), (long.shape[1] - short.shape[1], 0)), constant_values=np.nan),
    )
    seen = np.count_nonzero(~np.isnan(windows), axis=-1)
    runs = np.where(windows > 0, windows, np.nan)
    n_on = np.count_nonzero(~np.isnan(runs), axis=-1)
    onoff = (n_on >= MIN_RUNS) & (seen - n_on >= OFF_SHARE * seen)
    if days is not None:
        runs = _same_kind_of_day(runs, cols, days)
    level = nanmedian_last(runs)
    spread = MAD_TO_SIGMA * nanmedian_last(np.abs(runs - level[..., None]))
    largest = np.nanmax(np.where(onoff[..., None], runs, -np.inf), axis=-1)
    # The largest run before the day before d: a run confirming yesterday's rise is judged
    # against the runs before that rise, not against the rise itself (round 5).
    earlier = np.nanmax(np.where(onoff[..., None], runs[:, :-1], -np.inf), axis=-1)
    with np.errstate(invalid="ignore"):
        low = np.count_nonzero(runs < OFF_LEVEL_SHARE * level[..., None], axis=-1)
    for k, part in enumerate((level, spread, largest, earlier, low)):
        out[k, rows, cols] = np.where(onoff, part, np.nan)
    return out[0], out[1], out[2], out[3], out[4]


def _same_kind_of_day(runs: np.ndarray, cols: np.ndarray, days: np.ndarray) -> np.ndarray:
    """``runs`` (one window of the days before each cell's day ``cols``, NaN: no run) with only
    the runs on the same kind of day as that day (weekend or weekday) kept, where there are at
    least ``MIN_RUNS`` of them; otherwise all of them."""
    weekend = ~np.is_busday(days.astype("datetime64[D]"))  # Saturday and Sunday
    kind = cell_windows(weekend[None, :], np.zeros_like(cols), cols, runs.shape[1])
    same = np.where(kind == weekend[cols][:, None], runs, np.nan)
    enough = np.count_nonzero(~np.isnan(same), axis=-1) >= MIN_RUNS
    return np.where(enough[:, None], same, runs)


def relative_mad(relative: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """1.4826 × MAD of the relative residuals of the ``scale_window_days`` days before each day
    (NaN below ``min_scale_points`` of them)."""
    windows = past_windows(relative, config.scale_window_days)
    points = np.count_nonzero(~np.isnan(windows), axis=-1)
    centre = nanmedian_last(windows)
    mad = nanmedian_last(np.abs(windows - centre[..., None]))
    return np.where(points >= config.min_scale_points, MAD_TO_SIGMA * mad, np.nan)


#: Upper 95 % point of a standard normal: the tail quantile of well-behaved residuals.
NORMAL_Q95 = 1.6449


def tail_bound(
    z: np.ndarray, config: DetectorConfig, where: np.ndarray | None = None
) -> np.ndarray:
    """Per series and day, the robust-z bound a single day must pass, from the series' own past.

    ``z_threshold`` × max(1, q95 / 1.645), where q95 is the 95th percentile of the standardized
    residuals of the ``tail_window_days`` days before d (at least ``min_tail_points`` of them;
    before that the plain bound). For normal residuals q95 ≈ 1.645 and the bound stays at
    ``z_threshold``; heavy-tailed series (Student-t with 3–6 degrees of freedom gives q95 of
    about 1.9–2.4 in MAD units) need proportionally larger single-day excursions. The 95th
    percentile of ~56 values is about the third largest, so one or two incident days in the
    window barely move it. Reads only days before d. With ``where`` (bool, same shape) only
    those cells are computed; the others get the plain bound.
    """
    out = np.full(z.shape, config.z_threshold, dtype=float)
    rows, cols = np.nonzero(np.ones(z.shape, dtype=bool) if where is None else where)
    if not len(rows):
        return out
    windows = cell_windows(z, rows, cols, config.tail_window_days)
    points = np.count_nonzero(~np.isnan(windows), axis=-1)
    ordered = np.sort(windows, axis=-1)
    pos = np.floor(0.95 * np.maximum(points - 1, 0)).astype(int)[..., None]
    q95 = np.take_along_axis(ordered, pos, axis=-1)[..., 0]
    factor = np.where(points >= config.min_tail_points, np.fmax(q95 / NORMAL_Q95, 1.0), 1.0)
    out[rows, cols] = config.z_threshold * factor
    return out


def cell_windows(a: np.ndarray, rows: np.ndarray, cols: np.ndarray, width: int) -> np.ndarray:
    """``(len(rows), width)``: for each cell (row r, day d), ``a[r, d-width .. d-1]`` (NaN before
    day 0)."""
    idx = cols[:, None] - width + np.arange(width)[None, :]
    return np.where(idx >= 0, a[rows[:, None], np.clip(idx, 0, None)], np.nan)


def lagged_bool(a: np.ndarray) -> np.ndarray:
    out = np.zeros(a.shape, dtype=bool)
    out[:, 1:] = a[:, :-1]
    return out


def size_ok(excess: np.ndarray, exp: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """Whether an excess passes the USD and percent (of ``exp``) thresholds."""
    usd_ok = excess >= config.min_impact_usd
    # A series expected to cost nothing has no meaningful ratio: any rise passes.
    pct_ok = np.where(exp > 0, excess >= config.min_impact_pct * exp, excess > 0)
    return usd_ok & pct_ok if config.combine == "and" else usd_ok | pct_ok


def new_spend(
    y: np.ndarray,
    history: np.ndarray,
    pct_ref: np.ndarray,
    replaced: np.ndarray | None,
    config: DetectorConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Days of series that are new, and days on which their new spend is an anomaly.

    A series is *young* on its first ``min_history_days`` days when it first costs something
    at least ``min_history_days`` days into the data (a series present from the start is not
    new; it merely has no history yet): with no baseline, its expected spend is 0 and all of
    its spend is excess. A young day is flagged when that spend passes the USD/percent
    thresholds (percent against ``pct_ref``) on it and on the day before, so a one-day charge
    is not a new resource. ``replaced`` (a leaf row: ``churn.replaced_spend``, USD/day of
    siblings that stopped as it started; None = none) is subtracted from the spend before those
    tests, and what is left must be at least ``leaf_explain_min`` of the day's spend: a
    resource replacing another (churn, renamed ids) is no anomaly. Returns ``(young,
    flagged)``, bool arrays shaped like ``y``; reads day d and d - 1 only.
    """
    n_days = y.shape[1]
    present = ~np.isnan(y)
    first = np.where(present.any(axis=1), present.argmax(axis=1), n_days)
    late = (first >= config.min_history_days)[:, None]
    young = late & present & (history < config.min_history_days)
    rise = y if replaced is None else y - replaced
    with np.errstate(invalid="ignore"):
        ok = young & size_ok(rise, pct_ref, config)
        if replaced is not None:
            ok &= rise >= config.leaf_explain_min * y
        flagged = ok & lagged_bool(ok)
    return young, flagged

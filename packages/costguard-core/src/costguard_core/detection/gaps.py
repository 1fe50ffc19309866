"""Long stretches without a single row: shorten them, exactly, before the day matrices are built.

Exports spanning years with multi-year holes (a 2018 sample beside 2024 data) would otherwise make
every series a column per calendar day, almost all of them zeros. Inside a gap longer than every
look-back window the detector's state is the same each day (every window holds only the gap's
zeros), so removing its tail changes nothing a decision reads: the days kept after the gap see the
same windows, a series that existed before still counts as old enough to judge, and weekday
alignment holds because the removed stretch is a whole number of weeks. Calendar dates stay
attached to the kept columns (``Prepared.days``), so month-start fees and reported dates are
unchanged. ``tests/test_detection_gaps.py`` compares the result with the unshortened one.
"""

from __future__ import annotations

import numpy as np

from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.tails import on_window_days

#: Days back the month-start/-end charge reads (``fees.month_start_fees``): the same day of last
#: month (up to 31 days) and, for its relative part, the week ending on it (6 more; session 3).
_LONGEST_MONTH = 31 + 6


def incident_memory_days(config: DetectorConfig) -> int:
    """Days back a run can still make a later run the same incident: the ``cooldown_days`` after
    it ends, and (session 4, ``detector._lingering``) the ``season_weeks`` weeks after it starts,
    over which a monitor's weekday median learns the level it set."""
    return max(config.cooldown_days, 7 * config.season_weeks)


def lookback_days(config: DetectorConfig) -> int:
    """Days before d that any decision on d can read, summed along the longest chain, rounded up
    to whole weeks: tail bound of standardized residuals (``tail_window_days``) ← their scale
    (2 × ``scale_window_days``) ← expected spend (``season_weeks`` weeks, 7 trailing days and
    the month-start fee of a month earlier) ← drift's window and its lagged scale (2 ×
    ``drift_window_days``), plus the same-incident memory (``incident_memory_days``) and a week
    spare.
    The on/off chain (tail bound ← run level over ``tails.on_window_days``) is taken when longer
    (56 + 112 against 56 + 56 + 28 + 7 + 37 by default), and so is the pooled tail factor's
    (``pooled.pooled_factor``: ``pool_window_days`` of residuals ← their mean absolute value
    over ``scale_window_days`` ← expected spend), which is the longest by default since session
    9: 112 + 28 + 28 + 7 + 37 = 212, and so is the autocorrelation's (session 19,
    ``baseline.lag1_autocorrelation``: the ``scale_window_days`` day pairs before d ← their z's
    scale and expected spend: 29 + 56 + 28 + 7 + 37 = 157 by default; the drift rule reads it
    ``drift_window_days`` earlier, counted below). The catch-up offset (session 20,
    ``baseline.catch_up_offset``) reads z and the zero days of the ``tail_window_days`` before
    the 3 days before d, inside the single-day chain. Every day's spend read along any chain
    may be an export gap's filled-in spend (session 21, ``exportgaps.fill_export_gaps``), which
    reads the ``season_weeks`` weeks before it, so the chain gets that much longer. The default
    is 294 days (42 weeks; 266 before session 21)."""
    expected = 7 * config.season_weeks + 7 + _LONGEST_MONTH
    single = max(
        config.tail_window_days
        + max(2 * config.scale_window_days + expected, on_window_days(config)),
        config.pool_window_days + config.scale_window_days + expected,
        config.scale_window_days + 1 + 2 * config.scale_window_days + expected,
    )
    memory = incident_memory_days(config)
    fill = 7 * config.season_weeks  # an export gap's filled-in spend (``exportgaps``)
    days = single + fill + 2 * config.drift_window_days + memory + 7
    return -(-days // 7) * 7


def kept_days(day_idx: np.ndarray, keep: int | None) -> np.ndarray:
    """Day offsets (from the first day) that stay columns: every day, except that of each run of
    idle days (no row at all) longer than ``keep`` only the first ``keep`` days and the days
    after the last whole number of weeks beyond them stay. ``keep=None`` keeps every day."""
    n_days = int(day_idx.max()) + 1
    if keep is None:
        return np.arange(n_days)
    active = np.flatnonzero(np.bincount(day_idx, minlength=n_days))
    drop = np.zeros(n_days, dtype=bool)
    for a, b in zip(active[:-1], active[1:], strict=True):
        idle = int(b - a - 1)
        weeks = (idle - keep) // 7
        if weeks > 0:
            drop[a + 1 + keep : a + 1 + keep + 7 * weeks] = True
    return np.flatnonzero(~drop)


def compress(day_idx: np.ndarray, keep: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``(new_idx, kept)``: each row's column in the shortened matrix and the kept day offsets."""
    kept = kept_days(day_idx, keep)
    if len(kept) == int(day_idx.max()) + 1:  # no gap shortened: columns are the offsets
        return day_idx, kept
    return np.searchsorted(kept, day_idx), kept

"""Export gaps: a billing export that has no row at all on a day it should have.

A provider's export sometimes misses a day (a failed or late delivery) and often carries that
day's charges on the next. Read as spend, the missing day is a zero on every series of that
export: it lowers the same weekday's 4-week median for a month (two such days on one weekday
halve it, so ordinary days there read as a rise: on the third generator's k2 tenants, 14 of 19
false alarms at seed 7 came from one such Thursday), and the next day reads as a rise.

A day d is an *export gap* of one export (one ``ProviderName`` + ``BillingAccountId``) when that
export has no row at all on d, while on its last day with rows, at most ``GAP_DAYS`` days
before d, at least ``GAP_MIN_LEAVES`` of its leaves had rows: an export that was delivering many
resources does not fall silent for a day by usage (a single batch job's idle day is not a gap).
Only days up to d are read, so the definition has no look-ahead. A monitor's day is a gap when
every export among its leaves has a gap that day (a leaf: its export's; the total: all of them).
A monitor summing several exports of which only some have a gap (the total of a frame with two
providers) is not filled in: it still reads that day as a shortfall, as before session 21.

On a gap day the series' spend is taken to be its weekday median over ``season_weeks`` weeks
(``baseline.weekly_median``) with the other gap days left out, so later baselines, scales and
pooled tails never see the gap's zero; the spend the gap did not show (``missing``) is what the
next days may carry, and ``baseline.catch_up_offset`` judges them net of it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from costguard_core.detection.baseline import CATCH_UP_DAYS, weekly_median
from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.fees import month_charge_days
from costguard_core.detection.series import Prepared

#: Leaves an export must have had rows for on its last day with rows for a silent day to be a
#: gap (a single resource's idle day is usage, not a missing export).
GAP_MIN_LEAVES = 3
#: Longest run of silent days read as a gap: the catch-up rule's run.
GAP_DAYS = CATCH_UP_DAYS
#: Columns naming one export.
EXPORT_COLUMNS = ("ProviderName", "BillingAccountId")


def export_of(leaves: pd.DataFrame) -> np.ndarray:
    """Per leaf, the index of its export (``EXPORT_COLUMNS``; a missing value is a value)."""
    return leaves.groupby(list(EXPORT_COLUMNS), dropna=False, sort=False).ngroup().to_numpy()


def export_gaps(
    export: np.ndarray, leaf_row: np.ndarray, day_row: np.ndarray, n_days: int
) -> np.ndarray:
    """``(n_exports, n_days)`` bool: each export's gap days (see the module doc). ``export``:
    per leaf; ``leaf_row``/``day_row``: the long table's (leaf, day) entries."""
    n_exports = int(export.max()) + 1 if len(export) else 0
    # Leaves with rows, per export and day (the long table has one entry per leaf and day).
    cell = export[leaf_row].astype(np.int64) * n_days + day_row
    count = np.bincount(cell, minlength=n_exports * n_days).reshape(n_exports, n_days)
    gap = np.zeros(count.shape, dtype=bool)
    silent = count == 0
    for k in range(1, GAP_DAYS + 1):
        # The last day with rows is d - k: silent on d - k + 1 .. d, busy on d - k.
        run = silent[:, k:].copy()
        for j in range(1, k):
            run &= silent[:, k - j : n_days - j]
        gap[:, k:] |= run & (count[:, : n_days - k] >= GAP_MIN_LEAVES)
    return gap


def monitor_gaps(prep: Prepared, export: np.ndarray, gap: np.ndarray) -> np.ndarray:
    """``(n_monitor_rows, n_days)`` bool: a monitor's gap days, on which every export among its
    leaves has a gap."""
    out = np.zeros((len(prep.monitors), gap.shape[1]), dtype=bool)
    gapped = np.flatnonzero(gap.any(axis=1))
    if not len(gapped):
        return out
    for row, mon in enumerate(prep.monitors):
        exports = np.unique(export[prep.leaves_in(mon)])
        if len(exports) and np.isin(exports, gapped).all():
            out[row] = gap[exports].all(axis=0)
    return out


def fill_export_gaps(prep: Prepared, config: DetectorConfig) -> Prepared:
    """``prep`` with each monitor's gap days' spend replaced by its weekday median over
    ``config.season_weeks`` weeks without gap days and month-charge days (``fees.
    month_charge_days``; a gap on such a day is not filled), and ``missing`` (USD, that spend
    less the spend the rows showed; 0 elsewhere) set. Unchanged when there is no gap or no such
    median yet (fewer than two same weekdays)."""
    export = export_of(prep.leaves)
    gap = monitor_gaps(
        prep, export, export_gaps(export, prep.leaf_row, prep.day_row, len(prep.days))
    )
    rows = np.flatnonzero(gap.any(axis=1))
    if not len(rows):
        return prep
    y = prep.matrix[rows]
    g = gap[rows] & ~np.isnan(y)
    # Month charges' days (``fees``) are left out of the lags, and gap days on them are not
    # filled: their spend is not the weekday's.
    boundary = month_charge_days(prep.days)
    lags = np.where(g | boundary[None, :], np.nan, y)
    exp = weekly_median(lags, config.season_weeks)
    fill = g & ~boundary[None, :] & ~np.isnan(exp) & (exp > y)
    matrix = prep.matrix.copy()
    missing = np.zeros(prep.matrix.shape)
    matrix[rows] = np.where(fill, exp, y)
    missing[rows] = np.where(fill, exp - y, 0.0)
    return replace(prep, matrix=matrix, missing=missing)

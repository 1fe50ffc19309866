"""Resource churn: a new resource that replaces one which stopped (an autoscaling group's
new instance, a re-created volume, a renamed id) is not new spend.

Session 8. Before, a new leaf counted as new spend only if its service's excess over the two
days was at least ``leaf_explain_min`` of the leaf's spend. In a service that also holds a
batch job the service's expected spend swings with the job, so that excess said little and
real new resources were held back four to five days. The evidence of churn is now direct: a
sibling (same ServiceName within the same BillingAccountId) that ran steadily until around
the new resource's first day and has spent nothing since.
"""

from __future__ import annotations

import numpy as np

from costguard_core.detection.windows import nanmedian_last

#: A sibling counts as replaced when its last spend is at most this many days before the new
#: resource's first day (or on that day: a one-day overlap of old and new) ...
STOP_SLACK_DAYS = 3
#: ... and it spent on every day of the STEADY_WINDOW days ending on its last spend (or on every
#: day since its first row, if that is later, and at least STEADY_MIN_DAYS): a resource bills
#: every day it exists, while an intermittent batch job idle for a few days has not stopped.
STEADY_WINDOW = 7
STEADY_MIN_DAYS = 3


def replaced_spend(y: np.ndarray, group: np.ndarray, young_days: int, min_first: int) -> np.ndarray:
    """Per row and day, the USD/day level of the row's siblings that stopped as it started.

    ``y`` is ``(n_rows, n_days)`` daily cost in USD (NaN = no row that day); ``group`` (n_rows,
    int, -1 = none) names each row's sibling group. For a row whose first row ``f`` is on
    day ≥ ``min_first`` (a new series), on each day ``d`` of ``f .. f + young_days - 1``: the
    sum over siblings whose last spend ``L`` on or before ``d`` lies in ``f - STOP_SLACK_DAYS
    .. f`` with ``L < d``, which spent on every day of ``L - STEADY_WINDOW + 1 .. L`` since
    its own first row (≥ STEADY_MIN_DAYS days), of the median of those days' spend (a spend
    is a cost > 0). Reads days ≤ d only; 0 elsewhere. Returns a float array shaped like ``y``.
    """
    n_rows, n_days = y.shape
    out = np.zeros(y.shape)
    present = ~np.isnan(y)
    has = present.any(axis=1)
    first = np.where(has, present.argmax(axis=1), n_days)
    new_rows = np.flatnonzero(has & (first >= min_first) & (group >= 0))
    if not len(new_rows) or n_days < 2:
        return out
    stops = _steady_stops(y, first)
    if stops is None:
        return out
    row, last, level, resumed = stops
    stop_group = group[row]
    for r in new_rows:
        f = int(first[r])
        end = min(f + young_days, n_days)
        pick = (stop_group == group[r]) & (row != r) & (last >= f - STOP_SLACK_DAYS) & (last <= f)
        if not pick.any():
            continue
        begin = np.maximum(last[pick] + 1, f) - f
        until = np.minimum(resumed[pick], end) - f
        step = np.zeros(end - f + 1)
        np.add.at(step, begin, level[pick])
        np.add.at(step, np.maximum(until, begin), -level[pick])
        out[r, f:end] = np.cumsum(step)[:-1]
    return out


def _steady_stops(
    y: np.ndarray, first: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """Every day ``L`` on which a series spent and does not spend the next day, where it spent
    on every day of ``max(L - STEADY_WINDOW + 1, first) .. L`` (≥ STEADY_MIN_DAYS days):
    ``(row, L, median USD/day of those days, next day it spends again or n_days)``."""
    n_days = y.shape[1]
    spent = np.nan_to_num(y) > 0
    row, last = np.nonzero(spent[:, :-1] & ~spent[:, 1:])
    if not len(row):
        return None
    start = np.maximum(last - STEADY_WINDOW + 1, first[row])
    run = np.cumsum(spent, axis=1)
    before = np.where(start > 0, run[row, np.maximum(start - 1, 0)], 0)
    steady = (last - start + 1 >= STEADY_MIN_DAYS) & (run[row, last] - before == last - start + 1)
    row, last, start = row[steady], last[steady], start[steady]
    if not len(row):
        return None
    offsets = np.arange(STEADY_WINDOW)
    cols = start[:, None] + offsets
    block = np.where(cols <= last[:, None], y[row[:, None], np.minimum(cols, n_days - 1)], np.nan)
    level = nanmedian_last(block)
    # The next day each stopped series spends again: the next start of a run after L.
    s_row, s_day = np.nonzero(~spent[:, :-1] & spent[:, 1:])
    keys = s_row * n_days + s_day + 1
    at = np.searchsorted(keys, row * n_days + last)
    nxt = np.full(len(row), n_days)
    ok = at < len(keys)
    same = np.zeros(len(row), dtype=bool)
    same[ok] = s_row[at[ok]] == row[ok]
    nxt[same] = s_day[at[same]] + 1
    return row, last, level, nxt

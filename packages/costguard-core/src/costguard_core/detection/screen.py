"""Cheap pre-screen for incremental runs: which series could be flagged from a given day on.

A day can be anomalous only if its excess over the expected spend passes the USD/percent
thresholds (or the drift window's mean excess does). The expected spend alone is cheap (medians
of a few values); the robust scale and tail bound are not. So when a run only reports anomalies
from day ``from_day`` on, series whose excess passes no size test on any day from there cannot be
flagged there and are not judged further. The screen never drops a series that could be
flagged: its expected spend is exactly the one ``baseline`` uses for series that never cost
nothing; series that run after an idle day (possible on/off series, whose expected spend
differs), new series (``tails.new_spend``) and the parents of kept leaf rows are always kept.
"""

from __future__ import annotations

import numpy as np

from costguard_core.detection.baseline import (
    CHUNK_ROWS,
    Evaluation,
    _expected,
    mean_to_date,
    size_ok,
)
from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.monitors import LeafPercentOf
from costguard_core.detection.tails import on_window_days
from costguard_core.detection.windows import past_sum


def plain_expected(y: np.ndarray, config: DetectorConfig, days: np.ndarray | None) -> np.ndarray:
    """``baseline``'s expected spend for series that are not on/off (USD per day).

    Computed in blocks of ``CHUNK_ROWS`` rows (rows are independent): the weekday lags of a
    block stay in cache, which halves the time of one call over 10,000 series."""
    if len(y) <= CHUNK_ROWS:
        return _expected(y, config, days)
    return np.concatenate(
        [_expected(y[i : i + CHUNK_ROWS], config, days) for i in range(0, len(y), CHUNK_ROWS)]
    )


def candidates(
    y: np.ndarray,
    config: DetectorConfig,
    days: np.ndarray | None,
    parent: np.ndarray,
    from_day: int,
    account: np.ndarray | None = None,
    cell: np.ndarray | None = None,
    reference: LeafPercentOf = "parent",
) -> tuple[np.ndarray, np.ndarray]:
    """Rows that may be flagged on a day ≥ ``from_day`` (bool mask) and the plain expected.

    ``parent`` gives, per row, the row whose expected spend is its percent reference (-1: its
    own), as ``detect`` uses for leaf monitors; ``account`` (-1: none) a second such row, the
    smaller of the two expected spends being the reference. ``reference``
    (``MonitorsConfig.leaf_percent_of``): with ``"resource"`` every row's reference is its own
    expected spend, and ``parent`` only names the rows kept because a leaf under them is; with
    ``"lasting"`` a leaf's is the smaller of its own and its parents' (it is judged against
    either, by rule), so the screen keeps whatever either could flag.
    """
    exp = plain_expected(y, config, days)
    with np.errstate(invalid="ignore"):
        zero = may_run_after_idle(y, on_window_days(config))
    ref = exp.copy()
    own = reference == "resource"
    child = np.flatnonzero(parent >= 0) if not own else np.zeros(0, dtype=np.int64)
    up = parent[child]
    parent_ref = np.where(np.isnan(exp[up]), exp[child], exp[up])
    # A parent that may be on/off has another expected spend when judged; 0 (no percent test)
    # keeps the screen on the safe side for its children.
    parent_ref = np.where(zero[up][:, None], 0.0, parent_ref)
    if account is not None:
        acc = account[child]
        has = acc >= 0
        acc_ref = np.where(has[:, None], exp[np.maximum(acc, 0)], np.nan)
        acc_ref = np.where((has & zero[np.maximum(acc, 0)])[:, None], 0.0, acc_ref)
        parent_ref = np.fmin(parent_ref, acc_ref)
    if cell is not None:
        parent_ref = np.fmin(parent_ref, cell[child])
    ref[child] = np.fmin(exp[child], parent_ref) if reference == "lasting" else parent_ref
    # Only days from from_day on are tested; the drift window reaches w - 1 days before them.
    w = config.drift_window_days
    c0 = max(0, from_day - w + 1)
    excess, ref = y[:, c0:] - exp[:, c0:], ref[:, c0:]
    with np.errstate(invalid="ignore"):
        day_ok = (excess > 0) & size_ok(excess, ref, config)
        drift_ok = size_ok(mean_to_date(excess, w), mean_to_date(ref, w), config)
    tested = (day_ok | drift_ok)[:, from_day - c0 :]
    keep = tested.any(axis=1) | zero | _new_from(y, config, from_day)
    keep[parent[(parent >= 0) & keep]] = True
    return keep, exp


def _new_from(y: np.ndarray, config: DetectorConfig, from_day: int) -> np.ndarray:
    """Rows that may be flagged as new (``tails.new_spend``) on a day from ``from_day`` on:
    first costing something at least ``min_history_days`` into the data, with two days in a
    row within ``min_history_days`` of that (the second ≥ ``from_day``) whose spend could pass
    the size test. With both thresholds above 0 a day's rise (spend less what it replaced,
    never more than its spend) must be above 0, and under ``combine="and"`` at least
    ``min_impact_usd``; a resource that costs something on one day only (an ephemeral
    instance, a one-off charge: most rows of a large CUR file) never can (session 11: the demo's
    14,377 leaves, 8,197 of them kept by the first test alone, took 12 s to judge)."""
    n_days = y.shape[1]
    present = ~np.isnan(y)
    first = np.where(present.any(axis=1), present.argmax(axis=1), n_days)
    late = (first >= config.min_history_days) & (first + config.min_history_days > from_day)
    if not (config.min_impact_usd > 0 and config.min_impact_pct > 0):
        return late
    rows = np.flatnonzero(late)
    if not len(rows):
        return late
    with np.errstate(invalid="ignore"):  # NaN (before the series existed) compares False
        ok = y[rows] >= config.min_impact_usd if config.combine == "and" else y[rows] > 0
    pair = np.zeros(ok.shape, dtype=bool)
    pair[:, 1:] = ok[:, 1:] & ok[:, :-1]
    day = np.arange(n_days)[None, :]
    start = first[rows][:, None]
    young = (day > start) & (day < start + config.min_history_days) & (day >= from_day)
    out = np.zeros(len(y), dtype=bool)
    out[rows] = (pair & young).any(axis=1)
    return out


def may_run_after_idle(y: np.ndarray, width: int) -> np.ndarray:
    """Rows with a day that costs something and a zero day among the ``width`` before it: only
    there can ``tails.on_level`` change the expected spend. Only rows with a zero day are
    searched (most series have none)."""
    zero = y <= 0  # NaN (before a series exists) is not a zero day
    out = np.asarray(zero.any(axis=1))
    rows = np.flatnonzero(out)
    if not len(rows):
        return out
    idle_before = past_sum(zero[rows].astype(float), width)  # zero days among the width before
    out[rows] = ((y[rows] > 0) & (idle_before > 0)).any(axis=1)
    return out


def screened(y: np.ndarray, exp: np.ndarray) -> Evaluation:
    """The evaluation of rows the screen dropped: plain expected and excess, never flagged."""
    return Evaluation(
        expected=exp,
        excess=y - exp,
        z=np.full(y.shape, np.nan),
        flagged=np.zeros(y.shape, dtype=bool),
        single=np.zeros(y.shape, dtype=bool),
    )

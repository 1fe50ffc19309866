"""Recurring month-start fees and month-end charges: the expected extra on a month's first and
last days (split from ``baseline.py`` in round 5; behaviour unchanged)."""

from __future__ import annotations

import functools

import numpy as np

#: Days at the start of a month on which recurring fees are expected (see month_start_fees).
MONTH_START_DAYS = 3
#: Days at the end of a month on which recurring month-end charges are expected (round 4).
MONTH_END_DAYS = 3
#: Least level (share of the week's mean expected spend) a relative month charge is taken from.
RELATIVE_FLOOR = 0.1


def _in_month(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per date (``datetime64[D]``): its month, day of the month (1-based) and days to the
    month's last day (0 on it)."""
    month = days.astype("datetime64[M]")
    dom = (days - month.astype("datetime64[D]")).astype(np.int64) + 1
    from_end = ((month + 1).astype("datetime64[D]") - days).astype(np.int64) - 1
    return month, dom, from_end


def month_charge_days(days: np.ndarray) -> np.ndarray:
    """Per date, whether it is one of a month's first ``MONTH_START_DAYS`` or last
    ``MONTH_END_DAYS`` days, on which ``month_start_fees`` expects month charges."""
    _, dom, from_end = _in_month(days.astype("datetime64[D]"))
    return (dom <= MONTH_START_DAYS) | (from_end < MONTH_END_DAYS)


@functools.lru_cache(maxsize=8)
def _fee_pairs(day_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(i, prev)`` column pairs of ``month_start_fees``: day i is one of a month's first
    ``MONTH_START_DAYS`` or last ``MONTH_END_DAYS`` days and ``prev`` the same day of the
    previous month (counted from its start or its end) among the columns. Cached per column
    dates, since every chunk of rows of one run shares them; vectorised (session 9: the
    per-day loop over pandas Timestamps was ~5 % of an incremental run)."""
    days = np.frombuffer(day_bytes, dtype="datetime64[D]")
    month, dom, from_end = _in_month(days)
    first = month.astype("datetime64[D]")
    start = dom <= MONTH_START_DAYS
    end = ~start & (from_end < MONTH_END_DAYS)
    # The same day of the previous month from its start (days 1-3 exist in every month), or
    # from its end (the previous month's last day minus from_end).
    prev_day = np.where(
        start, (month - 1).astype("datetime64[D]") + (dom - 1), first - 1 - from_end
    )
    cols = np.flatnonzero(start | end)
    pos = np.searchsorted(days, prev_day[cols])
    found = (pos < len(days)) & (days[np.minimum(pos, len(days) - 1)] == prev_day[cols])
    return cols[found].astype(np.int64), pos[found].astype(np.int64)


def month_start_fees(y: np.ndarray, exp: np.ndarray, days: np.ndarray | None) -> np.ndarray:
    """Expected recurring charge on a month's first ``MONTH_START_DAYS`` and last
    ``MONTH_END_DAYS`` days: the positive excess the series had on the same day of the previous
    month, counted from the month's start or from its end, or that excess relative to that day's
    expected spend times today's expected spend, whichever is larger (session 3). ``y`` and
    ``exp`` are ``(n_series, n_days)`` spend and expected spend (USD, NaN before a series
    exists), ``days`` the columns' dates; returns ``(n_series, n_days)`` USD, 0 elsewhere.

    Providers bill support plans, subscriptions and commitments' upfront parts on a month's
    first days (a fixed amount: the additive part), and month-end processing (closing,
    reporting, billing runs) lands on its last and scales with the day's usage (the relative
    part: a month that ended on a quiet weekend day predicts little in USD for one ending on a
    weekday). The relative part's reference is at least ``RELATIVE_FLOOR`` of the mean expected
    spend of the week ending on that earlier day. Reads only that week (at most 37 days back).
    """
    fee = np.zeros(y.shape)
    if days is None or not len(days):
        return fee
    cols, prevs = _fee_pairs(np.ascontiguousarray(days.astype("datetime64[D]")).tobytes())
    if len(cols):
        extra = np.nan_to_num(np.fmax(y[:, prevs] - exp[:, prevs], 0.0))
        # The relative part; a near-zero reference day would turn any excess into a huge
        # ratio, hence the floor.
        week = np.clip(prevs[:, None] - np.arange(7)[None, :], 0, None)
        with np.errstate(invalid="ignore", divide="ignore"):
            known = exp[:, week]
            level = np.nansum(known, axis=-1) / np.count_nonzero(~np.isnan(known), axis=-1)
            base = np.fmax(exp[:, prevs], RELATIVE_FLOOR * level)
            ratio = np.where(base > 0, extra / base, 0.0)
        relative = np.nan_to_num(ratio * exp[:, cols])
        fee[:, cols] = np.fmax(extra, relative)
    return fee

"""Recurring month-start fees and month-end charges: the expected extra on a month's first and
last days (split from ``baseline.py`` in round 5; behaviour unchanged)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

#: Days at the start of a month on which recurring fees are expected (see month_start_fees).
MONTH_START_DAYS = 3
#: Days at the end of a month on which recurring month-end charges are expected (round 4).
MONTH_END_DAYS = 3


@functools.lru_cache(maxsize=8)
def _fee_pairs(day_bytes: bytes) -> tuple[np.ndarray, np.ndarray]:
    """``(i, prev)`` column pairs of ``month_start_fees``: day i is one of a month's first
    ``MONTH_START_DAYS`` or last ``MONTH_END_DAYS`` days and ``prev`` the same day of the
    previous month (counted from its start or its end) among the columns. Cached per column
    dates, since every chunk of rows of one run shares them."""
    days = np.frombuffer(day_bytes, dtype="datetime64[D]")
    stamps = pd.DatetimeIndex(days)
    idx = {d: i for i, d in enumerate(days)}
    cols, prevs = [], []
    for i, stamp in enumerate(stamps):
        from_end = stamp.days_in_month - stamp.day  # 0 on the month's last day
        if stamp.day <= MONTH_START_DAYS:
            day = (stamp - pd.DateOffset(months=1)).date()
        elif from_end < MONTH_END_DAYS:
            last = stamp - pd.DateOffset(days=stamp.day)  # the previous month's last day
            day = (last - pd.DateOffset(days=from_end)).date()
        else:
            continue
        prev = idx.get(np.datetime64(day, "D"))
        if prev is not None:
            cols.append(i)
            prevs.append(prev)
    return np.array(cols, dtype=np.int64), np.array(prevs, dtype=np.int64)


def month_start_fees(y: np.ndarray, exp: np.ndarray, days: np.ndarray | None) -> np.ndarray:
    """Expected recurring charge on a month's first ``MONTH_START_DAYS`` and last
    ``MONTH_END_DAYS`` days: the positive excess the series had on the same day of the previous
    month, counted from the month's start or from its end (USD, 0 elsewhere).

    Providers bill support plans, subscriptions and commitments' upfront parts on a month's
    first days, and month-end processing (closing, reporting, billing runs) lands on its last;
    the previous month's excess on that day predicts this month's. Reads only that earlier day
    (at most 31 days back).
    """
    fee = np.zeros(y.shape)
    if days is None or not len(days):
        return fee
    cols, prevs = _fee_pairs(np.ascontiguousarray(days.astype("datetime64[D]")).tobytes())
    if len(cols):
        fee[:, cols] = np.nan_to_num(np.fmax(y[:, prevs] - exp[:, prevs], 0.0))
    return fee

"""Window primitives shared by the detection kernels: past-only sliding windows and a fast
NaN-aware median. Arrays are ``(n_series, n_days)``; day d's window holds days before d only."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: 1.4826 × MAD estimates the standard deviation of normally distributed residuals.
MAD_TO_SIGMA = 1.4826


def nanmedian_last(a: np.ndarray) -> np.ndarray:
    """Median over the last axis ignoring NaN (all-NaN slices give NaN).

    ``np.nanmedian`` falls back to masked arrays for short axes, which is far slower than
    sorting (NaN sorts last) and reading the middle of the valid part.
    """
    valid = np.count_nonzero(~np.isnan(a), axis=-1)
    ordered = np.sort(a, axis=-1)
    lo = np.maximum((valid - 1) // 2, 0)[..., None]
    hi = np.maximum(valid // 2, 0)[..., None]
    with np.errstate(invalid="ignore"):
        med = (np.take_along_axis(ordered, lo, axis=-1) + np.take_along_axis(ordered, hi, axis=-1))[
            ..., 0
        ] / 2
    return np.where(valid > 0, med, np.nan)


def past_windows(y: np.ndarray, width: int) -> np.ndarray:
    """``(n, T, width)`` view: for day d, the values of days d-width .. d-1 (NaN before day 0)."""
    padded = np.concatenate([np.full((y.shape[0], width), np.nan), y], axis=1)
    return sliding_window_view(padded, width, axis=1)[:, : y.shape[1]]


def past_sum(a: np.ndarray, width: int) -> np.ndarray:
    """Sum over the ``width`` days before each day (last axis; days d-width .. d-1, fewer at the
    start), via one cumulative sum: O(1) per day whatever the width."""
    c = np.concatenate([np.zeros((*a.shape[:-1], 1)), np.cumsum(a, axis=-1)], axis=-1)
    n = a.shape[-1]
    lo = np.maximum(np.arange(n) - width, 0)
    return c[..., :n] - c[..., lo]

"""Numeric kernels of the seasonal robust baseline, vectorised over series (rows) and days.

Every array is ``(n_series, n_days)`` of floats, days ascending and consecutive; NaN marks a day
before the series existed. Each kernel looks only at columns strictly left of the day it
computes, which is what makes the detector free of look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from costguard_core.detection.config import DetectorConfig

#: Rows evaluated at once; bounds the (rows × days × window) temporaries to a few tens of MB.
CHUNK_ROWS = 256
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


def _past_windows(y: np.ndarray, width: int) -> np.ndarray:
    """``(n, T, width)`` view: for day d, the values of days d-width .. d-1 (NaN before day 0)."""
    padded = np.concatenate([np.full((y.shape[0], width), np.nan), y], axis=1)
    return sliding_window_view(padded, width, axis=1)[:, : y.shape[1]]


def weekly_median(y: np.ndarray, weeks: int) -> np.ndarray:
    """Median of the same weekday over the last ``weeks`` weeks; NaN until two such days exist
    (one day is too jumpy to be a baseline)."""
    n, t = y.shape
    lags = np.full((n, t, weeks), np.nan)
    for w in range(1, weeks + 1):
        if 7 * w < t:
            lags[:, 7 * w :, w - 1] = y[:, : -7 * w]
    enough = np.count_nonzero(~np.isnan(lags), axis=-1) >= 2
    return np.where(enough, nanmedian_last(lags), np.nan)


def trailing_median(y: np.ndarray) -> np.ndarray:
    """Median of the 7 days before each day; NaN until 7 such days exist."""
    window = _past_windows(y, 7)
    full = np.count_nonzero(~np.isnan(window), axis=-1) == 7
    return np.where(full, nanmedian_last(window), np.nan)


def robust_scale(residuals: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """1.4826 × MAD of the residuals of the ``scale_window_days`` days before each day.

    NaN where fewer than ``min_scale_points`` residuals exist in that window.
    """
    windows = _past_windows(residuals, config.scale_window_days)
    points = np.count_nonzero(~np.isnan(windows), axis=-1)
    centre = nanmedian_last(windows)
    mad = nanmedian_last(np.abs(windows - centre[..., None]))
    return np.where(points >= config.min_scale_points, MAD_TO_SIGMA * mad, np.nan)


@dataclass(frozen=True)
class Baseline:
    """Expected spend and the robust scale of its residuals, per series and day."""

    expected: np.ndarray
    scale: np.ndarray  # NaN until ``min_scale_points`` residuals exist


def baseline(y: np.ndarray, config: DetectorConfig) -> Baseline:
    """Expected spend per day from earlier days only, and the scale of its residuals.

    Expected is the weekday median (``weekly_median``) once two same weekdays exist, before that
    the trailing-week median (``trailing_median``). Both are medians, so a few anomalous days
    in the history do not move them; a lasting level shift becomes the new normal after about
    half of ``season_weeks``.
    """
    weekly = weekly_median(y, config.season_weeks)
    exp = np.where(np.isnan(weekly), trailing_median(y), weekly)
    return Baseline(expected=exp, scale=robust_scale(y - exp, config))


def expected(y: np.ndarray, config: DetectorConfig) -> np.ndarray:
    """The expected spend of ``baseline`` alone (USD per day, NaN where no model applies)."""
    return baseline(y, config).expected


@dataclass(frozen=True)
class Evaluation:
    """Per series and day: expected spend, excess (actual − expected), robust z, anomalous flag."""

    expected: np.ndarray
    excess: np.ndarray
    z: np.ndarray
    flagged: np.ndarray


def _evaluate_chunk(y: np.ndarray, config: DetectorConfig) -> Evaluation:
    base = baseline(y, config)
    exp, scale = base.expected, base.scale
    excess = y - exp
    floored = np.fmax(
        np.fmax(scale, config.rel_scale_floor * np.abs(exp)), config.abs_scale_floor_usd
    )
    history = np.cumsum(~np.isnan(y), axis=1) - (~np.isnan(y))
    judged = (history >= config.min_history_days) & ~np.isnan(exp) & ~np.isnan(scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = excess / floored
        usd_ok = excess >= config.min_impact_usd
        # A series expected to cost nothing has no meaningful ratio: any rise passes.
        pct_ok = np.where(exp > 0, excess >= config.min_impact_pct * exp, excess > 0)
        size_ok = usd_ok & pct_ok if config.combine == "and" else usd_ok | pct_ok
        flagged = judged & (excess > 0) & (z > config.z_threshold) & size_ok
    return Evaluation(expected=exp, excess=excess, z=z, flagged=flagged)


def evaluate(y: np.ndarray, config: DetectorConfig) -> Evaluation:
    """Judge every day of every series; rows are processed in chunks to bound memory."""
    parts = [_evaluate_chunk(y[i : i + CHUNK_ROWS], config) for i in range(0, len(y), CHUNK_ROWS)]
    if not parts:
        empty = np.empty(y.shape)
        return Evaluation(empty, empty, empty, np.zeros(y.shape, dtype=bool))
    return Evaluation(
        expected=np.concatenate([p.expected for p in parts]),
        excess=np.concatenate([p.excess for p in parts]),
        z=np.concatenate([p.z for p in parts]),
        flagged=np.concatenate([p.flagged for p in parts]),
    )

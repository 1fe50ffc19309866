"""The published baselines, run on the same tenants, leaves and days as CostGuard.

Every baseline judges each *leaf* series of a tenant (zero on days without a row, credits left
out, exactly as the detector sums them) from days before d only, flags increases, and must pass
the same materiality floor as CostGuard's default monitor (excess ≥ 10 USD and ≥ 25 % of
expected). Fair grouping and attribution: on each day, the leaves of a tenant that become flagged
(flagged that day, not the day before) form one anomaly whose root causes are those leaves,
largest excess first.

- ``robust_z``: rolling 28-day median and 1.4826 × MAD of the days before d; z > 3.5
  (Iglewicz & Hoaglin's outlier bound).
- ``ratio``: the day over the mean of the 7 days before it > 1.5.
- ``prophet``: Prophet (weekly seasonality) fitted on all days before each 28-day block and
  its 99 % interval's upper bound over the block (refitted every 28 days, so no look-ahead).
- ``iforest``: scikit-learn IsolationForest per tenant on (log spend, ratio to trailing-7 mean,
  robust z), refitted every 28 days on the days before the block; outliers above the median.
"""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
import pandas as pd
from costguard_core.detection.baseline import nanmedian_last
from scoring import Found

# All-NaN windows at a series' start are expected; numpy's warnings about them are noise here.
warnings.filterwarnings("ignore", category=RuntimeWarning)
MIN_USD, MIN_PCT = 10.0, 0.25
WARMUP = 28
BLOCK = 28


def leaf_matrix(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``(leaves, days, spend)``: one row per leaf (SubAccountId, ServiceName, ResourceId),
    dense positive spend per day (USD), zero where a leaf has no row."""
    pos = frame[frame["EffectiveCost"] > 0]
    keys = ["SubAccountId", "ServiceName", "ResourceId"]
    day = pd.to_datetime(pos["ChargePeriodStart"]).to_numpy().astype("datetime64[D]")
    first = day.min()
    di = (day - first).astype(int)
    codes, leaves = pd.MultiIndex.from_frame(pos[keys].fillna("∅")).factorize()
    spend = np.zeros((len(leaves), di.max() + 1))
    np.add.at(spend, (codes, di), pos["EffectiveCost"].to_numpy(dtype=float))
    return leaves.to_frame(index=False), first + np.arange(spend.shape[1]), spend


def _windows(y: np.ndarray, width: int) -> np.ndarray:
    pad = np.concatenate([np.full((y.shape[0], width), np.nan), y], axis=1)
    return np.lib.stride_tricks.sliding_window_view(pad, width, axis=1)[:, : y.shape[1]]


def robust_z(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w = _windows(y, 28)
    med = nanmedian_last(w)
    mad = nanmedian_last(np.abs(w - med[..., None])) * 1.4826
    scale = np.fmax(np.fmax(mad, 0.05 * np.abs(med)), 0.01)
    return med, (y - med) / scale > 3.5


def ratio(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean7 = np.nanmean(_windows(y, 7), axis=-1) if y.size else y
    with np.errstate(invalid="ignore", divide="ignore"):
        flag = np.where(mean7 > 0, y / mean7 > 1.5, y > 0)
    return mean7, flag


def prophet(y: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from prophet import Prophet

    logging.getLogger("cmdstanpy").disabled = True  # one INFO line per fit otherwise
    logging.getLogger("prophet").setLevel(logging.ERROR)
    exp = np.full(y.shape, np.nan)
    upper = np.full(y.shape, np.nan)
    ds = pd.to_datetime(days)
    for i in range(y.shape[0]):
        for b in range(WARMUP, y.shape[1], BLOCK):
            hist = pd.DataFrame({"ds": ds[:b], "y": y[i, :b]})
            m = Prophet(
                interval_width=0.99,
                daily_seasonality=False,
                yearly_seasonality=False,
                uncertainty_samples=200,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.fit(hist)
            fc = m.predict(pd.DataFrame({"ds": ds[b : b + BLOCK]}))
            exp[i, b : b + BLOCK] = fc["yhat"].to_numpy()
            upper[i, b : b + BLOCK] = fc["yhat_upper"].to_numpy()
    return exp, y > upper


def iforest(y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.ensemble import IsolationForest

    med, _ = robust_z(y)
    w = _windows(y, 28)
    mad = nanmedian_last(np.abs(w - med[..., None])) * 1.4826
    mean7 = np.nanmean(_windows(y, 7), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        feats = np.stack(
            [np.log1p(y), y / np.fmax(mean7, 0.01), (y - med) / np.fmax(mad, 0.01)], axis=-1
        )
    feats = np.nan_to_num(feats, nan=0.0, posinf=1e3)
    flag = np.zeros(y.shape, dtype=bool)
    for b in range(WARMUP, y.shape[1], BLOCK):
        train = feats[:, 7:b].reshape(-1, 3)
        model = IsolationForest(n_estimators=100, contamination=0.01, random_state=seed)
        model.fit(train)
        block = feats[:, b : b + BLOCK]
        pred = model.predict(block.reshape(-1, 3)).reshape(block.shape[:2])
        flag[:, b : b + BLOCK] = pred == -1
    return med, flag & (y > med)


def to_found(
    tenant: int, leaves: pd.DataFrame, days: np.ndarray, y: np.ndarray, exp, flag
) -> list[Found]:
    """Apply the materiality floor, then one anomaly per tenant and day on which leaves become
    flagged, causes = those leaves by excess (largest first)."""
    exp = np.nan_to_num(exp, nan=0.0)
    excess = y - exp
    ok = flag & (excess >= MIN_USD) & (excess >= MIN_PCT * np.abs(exp))
    ok[:, :WARMUP] = False
    fresh = ok & ~np.concatenate([np.zeros((len(y), 1), bool), ok[:, :-1]], axis=1)
    out = []
    for d in np.flatnonzero(fresh.any(axis=0)):
        rows = np.flatnonzero(fresh[:, d])
        rows = rows[np.argsort(-excess[rows, d])]
        causes = tuple(tuple(None if v == "∅" else v for v in leaves.iloc[r]) for r in rows[:10])
        out.append(Found(tenant, pd.Timestamp(days[d]).date(), causes))
    return out


def run_baseline(name: str, tenants: list, seed: int) -> tuple[list[Found], float]:
    """All anomalies of one baseline over ``tenants`` and the seconds it took."""
    found: list[Found] = []
    t0 = time.perf_counter()
    for t in tenants:
        leaves, days, y = leaf_matrix(t.frame)
        if name == "robust_z":
            exp, flag = robust_z(y)
        elif name == "ratio":
            exp, flag = ratio(y)
        elif name == "prophet":
            exp, flag = prophet(y, days)
        elif name == "iforest":
            exp, flag = iforest(y, seed)
        else:
            raise ValueError(name)
        found.extend(to_found(t.index, leaves, days, y, exp, flag))
    return found, time.perf_counter() - t0

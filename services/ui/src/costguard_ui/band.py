"""Daily spend of an anomaly's scope and the dashboard's reference band around it (no Streamlit).

The detector's own baseline is internal to ``costguard_core.detection`` and may change, so the
dashboard draws its own, simpler band and labels it as such (:data:`BAND_LABEL`):

- expected spend on day *d* = the median of the same weekday in the 4 weeks before *d* (needs at
  least 2 of them), else the median of the 7 days before *d* (needs all 7);
- band = expected ± 3 × 1.4826 × MAD of the (actual − expected) residuals of the 28 days before
  *d* (needs at least 7 residuals), floored at 0 USD below.

It looks only at days before *d*, like the detector, so a spike does not widen its own band. The
anomaly's exact figures (``expected_cost``, ``actual_cost`` over its window) come from the
detector and are shown beside the chart.

Spend is ``EffectiveCost`` (what the detector judges) summed per UTC day over rows matching every
``scope`` entry; rows with negative cost (credits, refunds) are left out as the detector does.
A scope without ``BillingCurrency`` is the detector's primary currency, USD.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

import numpy as np
import pandas as pd
from costguard_core.models import CostRow

BAND_LABEL = "reference band: weekday median of 4 prior weeks ± 3 robust σ (dashboard's own)"
PRIMARY_CURRENCY = "USD"
SIGMAS = 3.0
MAD_TO_SIGMA = 1.4826


def matches(row: CostRow, scope: dict[str, str]) -> bool:
    wanted = {"BillingCurrency": PRIMARY_CURRENCY, **scope}
    return all(str(getattr(row, k, None)) == v for k, v in wanted.items())


def daily_spend(rows: Iterable[CostRow], scope: dict[str, str]) -> pd.Series:
    """EffectiveCost per UTC day for ``scope`` (float USD for plotting; the sum itself is exact
    ``Decimal``), indexed by consecutive days; days with no rows are 0."""
    totals: dict[pd.Timestamp, Decimal] = {}
    for row in rows:
        if row.EffectiveCost >= 0 and matches(row, scope):
            day = pd.Timestamp(row.ChargePeriodStart)
            totals[day] = totals.get(day, Decimal(0)) + row.EffectiveCost
    if not totals:
        return pd.Series(dtype=float)
    days = pd.date_range(min(totals), max(totals), freq="D")
    return pd.Series([float(totals.get(d, Decimal(0))) for d in days], index=days)


def _median(values: list[float], need: int) -> float:
    return float(np.median(values)) if len(values) >= need else float("nan")


def reference_band(spend: pd.Series) -> pd.DataFrame:
    """Columns ``actual``, ``expected``, ``lower``, ``upper`` per day (NaN where the history is
    too short, as described in the module docstring)."""
    y = spend.to_numpy(dtype=float)
    expected = np.full(len(y), np.nan)
    for d in range(len(y)):
        weekly = [y[d - 7 * w] for w in range(1, 5) if d - 7 * w >= 0]
        expected[d] = (
            _median(weekly, 2) if len(weekly) >= 2 else _median(list(y[max(0, d - 7) : d]), 7)
        )
    residuals = y - expected
    half = np.full(len(y), np.nan)
    for d in range(len(y)):
        past = [r for r in residuals[max(0, d - 28) : d] if not np.isnan(r)]
        if len(past) >= 7:
            mad = float(np.median(np.abs(np.array(past) - np.median(past))))
            half[d] = SIGMAS * MAD_TO_SIGMA * mad
    return pd.DataFrame(
        {
            "actual": y,
            "expected": expected,
            "lower": np.maximum(expected - half, 0.0),
            "upper": expected + half,
        },
        index=spend.index,
    )

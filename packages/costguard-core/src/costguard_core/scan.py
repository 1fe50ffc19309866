"""``scan``: read billing exports and run the detector, as the JSON ``costguard scan`` prints.

Shape (exactly these keys)::

    {"rows_read": int, "series_scanned": int, "currency": "USD",
     "period": {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"},
     "anomalies": [AnomalyCreate JSON, ...]}
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import date

import pandas as pd
from pydantic import BaseModel, ConfigDict

from costguard_core.detection import DetectorConfig, detect, series_count
from costguard_core.detection.monitors import MonitorsConfig
from costguard_core.errors import InputError
from costguard_core.focus import DailyCosts, read_daily
from costguard_core.models import AnomalyCreate


class Period(BaseModel):
    """First and last UTC day with a cost row in the inputs."""

    model_config = ConfigDict(extra="forbid")

    start: date
    end: date


class ScanReport(BaseModel):
    """What one scan found. ``rows_read`` counts source line items; ``series_scanned`` monitors;
    ``currency`` is the inputs' one BillingCurrency, in which every figure is expressed."""

    model_config = ConfigDict(extra="forbid")

    rows_read: int
    series_scanned: int
    currency: str
    period: Period
    anomalies: list[AnomalyCreate]


def _file_names(daily: DailyCosts) -> str:
    """``a.csv (USD), b.csv (EUR)``: each input with the currencies it holds."""
    return ", ".join(f"{f.path} ({', '.join(f.currencies) or 'none'})" for f in daily.files)


def scan_frame(
    daily: DailyCosts,
    *,
    since: date | None = None,
    config: DetectorConfig | None = None,
    cost_column: str = "EffectiveCost",
    monitors: MonitorsConfig | None = None,
) -> ScanReport:
    """Detect anomalies in costs already read with ``read_daily`` (``monitors``: see
    ``detection.monitors``; None = the default monitors).

    Raises ``InputError`` when the inputs hold more than one BillingCurrency (figures are never
    summed across currencies) or no cost rows at all.
    """
    currencies = sorted(daily.currencies())
    if len(currencies) != 1:
        found = ", ".join(currencies) if currencies else "none"
        raise InputError(
            f"expected one BillingCurrency across the inputs, found {found}; "
            f"scan each currency separately: {_file_names(daily)}",
            field="BillingCurrency",
        )
    frame = daily.frame
    if frame.empty:
        raise InputError(f"no cost rows to scan (files: {_file_names(daily)})")
    days = frame["ChargePeriodStart"]
    anomalies = detect(
        frame, since=since, cost_column=cost_column, config=config, monitors=monitors
    )
    return ScanReport(
        rows_read=daily.rows_read,
        series_scanned=series_count(frame, monitors),
        currency=currencies[0],
        period=Period(start=_as_date(days.min()), end=_as_date(days.max())),
        anomalies=anomalies,
    )


def _as_date(value: object) -> date:
    """A UTC day from a ``date`` or a (UTC) pandas Timestamp."""
    return pd.Timestamp(value).date()


def scan(
    paths: Sequence[str | os.PathLike[str]],
    *,
    since: date | None = None,
    config: DetectorConfig | None = None,
    monitors: MonitorsConfig | None = None,
) -> ScanReport:
    """Read FOCUS / AWS CUR exports (``read_daily``) and detect anomalies in their EffectiveCost.

    Raises ``InputError`` (naming file, row, field) for unreadable or mixed-currency inputs.
    """
    return scan_frame(read_daily(list(paths)), since=since, config=config, monitors=monitors)

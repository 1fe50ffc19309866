"""``scan``: read billing exports and run the detector, as the JSON ``costguard scan`` prints.

Shape (exactly these keys)::

    {"rows_read": int, "series_scanned": int, "currency": "USD",
     "period": {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"},
     "anomalies": [AnomalyCreate JSON, ...]}

With ``granularity="hour"`` (``costguard scan --granularity hour``) the report is an
``HourlyScanReport``: the same keys plus ``"granularity": "hour"`` and ``"last_hour"`` (the
data's latest UTC hour), each anomaly with ``detected_at`` and ``checkpoint_hour``
(``detection.hourly``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict

from costguard_core.detection import DetectorConfig, detect, series_count
from costguard_core.detection.hourly import HourlyAnomaly, detect_hourly
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


class HourlyScanReport(ScanReport):
    """A scan of hourly rows: ``last_hour`` is the latest UTC hour with a cost row (a day in
    progress is judged on the hours it has); anomalies carry the moment they were raised."""

    granularity: Literal["hour"] = "hour"
    last_hour: datetime
    anomalies: list[HourlyAnomaly]  # type: ignore[assignment]


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
    currency, frame = _one_currency(daily)
    days = frame["ChargePeriodStart"]
    anomalies = detect(
        frame, since=since, cost_column=cost_column, config=config, monitors=monitors
    )
    return ScanReport(
        rows_read=daily.rows_read,
        series_scanned=series_count(frame, monitors),
        currency=currency,
        period=Period(start=_as_date(days.min()), end=_as_date(days.max())),
        anomalies=anomalies,
    )


def scan_hourly_frame(
    hourly: DailyCosts,
    *,
    since: date | None = None,
    config: DetectorConfig | None = None,
    cost_column: str = "EffectiveCost",
    monitors: MonitorsConfig | None = None,
) -> HourlyScanReport:
    """``scan_frame`` for rows read with ``read_daily(..., granularity="hour")``: anomalies
    from ``detect_hourly``, raised at the hour their data shows them. Raises as ``scan_frame``.
    """
    currency, frame = _one_currency(hourly)
    stamps = pd.to_datetime(frame["ChargePeriodStart"])
    anomalies = detect_hourly(
        frame, since=since, cost_column=cost_column, config=config, monitors=monitors
    )
    return HourlyScanReport(
        rows_read=hourly.rows_read,
        series_scanned=series_count(frame, monitors),
        currency=currency,
        period=Period(start=_as_date(stamps.min()), end=_as_date(stamps.max())),
        last_hour=stamps.max().to_pydatetime(),
        anomalies=anomalies,
    )


def _one_currency(daily: DailyCosts) -> tuple[str, pd.DataFrame]:
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
    return currencies[0], frame


def _as_date(value: object) -> date:
    """A UTC day from a ``date`` or a (UTC) pandas Timestamp."""
    return pd.Timestamp(value).date()


def scan(
    paths: Sequence[str | os.PathLike[str]],
    *,
    since: date | None = None,
    config: DetectorConfig | None = None,
    monitors: MonitorsConfig | None = None,
    granularity: Literal["day", "hour"] = "day",
    lenient: bool = False,
    max_bad_rows: int = 0,
    on_read: Callable[[DailyCosts], object] | None = None,
) -> ScanReport:
    """Read FOCUS / AWS CUR exports (``read_daily``) and detect anomalies in their EffectiveCost,
    per UTC day or, with ``granularity="hour"``, per UTC hour (``HourlyScanReport``).

    ``lenient`` and ``max_bad_rows`` are passed to ``read_daily``; ``on_read`` (if given) is
    called with what was read before detection, e.g. to print ``warnings`` and ``rejected``.
    Raises ``InputError`` (naming file, row, field) for unreadable or mixed-currency inputs,
    ValueError for ``max_bad_rows`` without ``lenient``.
    """
    daily = read_daily(
        list(paths), lenient=lenient, granularity=granularity, max_bad_rows=max_bad_rows
    )
    if on_read is not None:
        on_read(daily)
    if granularity == "hour":
        return scan_hourly_frame(daily, since=since, config=config, monitors=monitors)
    return scan_frame(daily, since=since, config=config, monitors=monitors)

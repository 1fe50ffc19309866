"""Billing adapters registered by name (cloud-custodian style): a new source is one new module.

Every adapter has a pydantic ``Settings`` model (each field with a title and description, so
``model_json_schema()`` documents the configuration) derived from :class:`AdapterSettings`,
and ``pull(start, end)``, which yields daily rows (``CostRow``) and/or hourly rows
(``CostHourlyRow``, an aware UTC hour); the poller posts each kind to its own endpoint.
Restatement is the poller's job: it re-pulls the last ``restatement_days`` before the watermark,
because bills change for days after usage (for hourly rows: every hour of those days).
"""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from costguard_core.errors import InputError
from costguard_core.focus import DailyCosts, read_daily
from costguard_core.models import CostHourlyRow, CostRow
from pydantic import BaseModel, ConfigDict, Field, model_validator

log = logging.getLogger("costguard.adapters")


class AdapterSettings(BaseModel):
    """Settings every source has. Unknown keys are refused (a typo such as ``granularty``
    would otherwise leave a source silently on its defaults)."""

    model_config = ConfigDict(extra="forbid")

    restatement_days: int = Field(
        3,
        ge=0,
        le=62,
        title="Restatement window (days)",
        description="Days before the watermark pulled again on every poll, because providers "
        "restate recent days until the month closes (AWS: up to 24 h after usage, more at "
        "month end; Azure and GCP: up to 72 h).",
    )


class Adapter(ABC):
    """One billing source. ``Settings`` is the pydantic model of its configuration.

    ``state_dir`` is a folder the source may keep state in between polls (the poller gives each
    source ``<STATE_DIR>/adapters/<source name>`` through :meth:`Registry.build`; None outside
    the poller). Only ``vultr`` uses it (its pending-charge snapshots).
    """

    name: ClassVar[str]
    Settings: ClassVar[type[AdapterSettings]]
    state_dir: Path | None = None

    def __init__(self, settings: AdapterSettings) -> None:
        self.settings = settings

    @abstractmethod
    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        """FOCUS rows whose UTC day (:func:`row_day`) is in ``[start, end]`` (None = unbounded):
        ``CostRow`` (one UTC day) or ``CostHourlyRow`` (one UTC hour)."""


def in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def row_day(row: CostRow) -> date:
    """The UTC day of a row: a daily row's ChargePeriodStart, an hourly row's hour's UTC day."""
    start = row.ChargePeriodStart
    return start.astimezone(UTC).date() if isinstance(start, datetime) else start


def lenient_field() -> Any:
    """The ``lenient`` setting of the file-based adapters (``read_daily(lenient=...)``)."""
    return Field(
        False,
        title="Lenient read",
        description="Repair mixed CRLF/LF line endings and pad rows missing trailing columns "
        "with NULL instead of refusing the file; every repair is logged as a warning (file, "
        "row, what). A row whose own cost needs a missing column is still an error. A currency "
        "that is not a 3-letter code is kept as given, but such rows cannot be posted.",
    )


def max_bad_rows_field() -> Any:
    """The ``max_bad_rows`` setting of the file-based adapters (``read_daily(max_bad_rows=)``)."""
    return Field(
        0,
        ge=0,
        title="Bad rows set aside per file",
        description="With lenient: true, up to this many rows per file that fail a row check "
        "(unparsable cost, empty mandatory field, bad timestamp, wrong field count) are set "
        "aside instead of refusing the file; each is logged at ERROR with its raw cost text and "
        "nothing of it is ingested. One more and the file is refused. 0 = refuse any bad row.",
    )


class ReadSettings(AdapterSettings):
    """Settings of the adapters that read export files with the core reader."""

    lenient: bool = lenient_field()
    max_bad_rows: int = max_bad_rows_field()

    @model_validator(mode="after")
    def _bad_rows_need_lenient(self) -> ReadSettings:
        if self.max_bad_rows and not self.lenient:
            raise ValueError("max_bad_rows needs lenient: true")
        return self


Granularity = Literal["day", "hour"]


def granularity_field() -> Any:
    """The ``granularity`` setting of the adapters reading files that may hold hours."""
    return Field(
        "day",
        title="Granularity",
        description="day: post UTC-day rows to /api/v1/costs/ingest. hour: read the files "
        "with read_daily(granularity='hour') (each line item in the UTC hour its charge period "
        "starts; never split) and post UTC-hour rows to /api/v1/costs/ingest-hourly, where the "
        "backend keeps each day's daily rows equal to the sums of its hours. Use hour only for "
        "sources with hourly line items (FOCUS hourly, CUR hourly); a source's day is given by "
        "hours or by a day total, so switching a source back from hour to day is refused by the "
        "backend for days it holds hours of (use a new source name).",
    )


class ExportSettings(ReadSettings):
    """Settings of the adapters reading export files that may be hourly (file, focus, aws-cur)."""

    granularity: Granularity = granularity_field()


def hourly_rows(costs: DailyCosts) -> list[CostHourlyRow]:
    """The frame of an hourly read as :class:`CostHourlyRow` models (the naive UTC hour made
    aware, Tags as a dict); money is the reader's Decimal, unchanged."""
    if costs.granularity != "hour":
        raise ValueError("hourly_rows needs hourly rows (read with granularity='hour')")
    rows = []
    for rec in costs.frame.itertuples(index=False):
        data = rec._asdict()
        data["ChargePeriodStart"] = data["ChargePeriodStart"].to_pydatetime().replace(tzinfo=UTC)
        data["Tags"] = json.loads(data["Tags"])
        rows.append(CostHourlyRow(**data))
    return rows


def read_exports(
    paths: Sequence[str | os.PathLike[str]],
    *,
    lenient: bool,
    max_bad_rows: int = 0,
    granularity: Granularity = "day",
) -> list[CostRow]:
    """Rows of export files through the core reader: ``CostRow`` per UTC day, or with
    ``granularity="hour"`` ``CostHourlyRow`` per UTC hour. Logs each lenient repair
    (WARNING) and each row set aside under ``max_bad_rows`` (ERROR, with its raw cost text).

    Raises costguard_core.errors.InputError (naming file, row and field) on bad input, and
    (naming the file and the currency) for a file whose currency a CostRow cannot hold: the
    lenient read keeps a non-ISO code such as koku's "MC" as given, but the backend stores
    3-letter ISO 4217 codes only, so such rows are never posted.
    """
    daily = read_daily(paths, lenient=lenient, max_bad_rows=max_bad_rows, granularity=granularity)
    for warning in daily.warnings:
        log.warning("lenient read repaired %s", warning)
    for rejected in daily.rejected:
        log.error("lenient read rejected %s", rejected)
    for source in daily.files:
        for currency in source.currencies:
            if len(currency) != 3:
                raise InputError(
                    f"currency {currency!r} is not a 3-letter ISO 4217 code: the lenient read "
                    "keeps it as given, but the backend stores ISO codes only, so these rows "
                    "cannot be posted (fix the export's currency, or read it offline with "
                    "costguard normalize/scan --lenient)",
                    path=source.path,
                    field="BillingCurrency",
                )
    return [*hourly_rows(daily)] if granularity == "hour" else daily.to_cost_rows()


class Registry:
    def __init__(self) -> None:
        self._adapters: dict[str, type[Adapter]] = {}

    def register(self, name: str) -> Callable[[type[Adapter]], type[Adapter]]:
        def wrap(cls: type[Adapter]) -> type[Adapter]:
            if name in self._adapters:
                raise ValueError(f"adapter {name!r} registered twice")
            cls.name = name
            self._adapters[name] = cls
            return cls

        return wrap

    def get(self, name: str) -> type[Adapter]:
        try:
            return self._adapters[name]
        except KeyError:
            raise KeyError(f"unknown adapter {name!r}; known: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return sorted(self._adapters)

    def build(self, name: str, settings: dict, *, state_dir: Path | None = None) -> Adapter:
        """An adapter from its name and raw settings (pydantic.ValidationError if invalid),
        with ``state_dir`` as its :attr:`Adapter.state_dir`."""
        cls = self.get(name)
        adapter = cls(cls.Settings.model_validate(settings))
        adapter.state_dir = state_dir
        return adapter


adapters = Registry()


def load_all() -> Registry:
    """Import every adapter module (each registers itself) and return the registry."""
    from costguard_adapters import (  # noqa: F401
        aws_ce,
        aws_cur,
        azure,
        files,
        gcp_bigquery,
        llm_usage,
        vultr,
    )

    return adapters

"""Billing adapters registered by name (cloud-custodian style): a new source is one new module.

Every adapter has a pydantic ``Settings`` model (each field with a title and description, so
``model_json_schema()`` documents the configuration) derived from :class:`AdapterSettings`,
and ``pull(start, end)``. Restatement is the poller's job: it re-pulls the last
``restatement_days`` before the watermark, because bills change for days after usage.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any, ClassVar

from costguard_core.errors import InputError
from costguard_core.focus import read_daily
from costguard_core.models import CostRow
from pydantic import BaseModel, Field, model_validator

log = logging.getLogger("costguard.adapters")


class AdapterSettings(BaseModel):
    """Settings every source has."""

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
    """One billing source. ``Settings`` is the pydantic model of its configuration."""

    name: ClassVar[str]
    Settings: ClassVar[type[AdapterSettings]]

    def __init__(self, settings: AdapterSettings) -> None:
        self.settings = settings

    @abstractmethod
    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        """FOCUS daily rows with ChargePeriodStart in ``[start, end]`` (None = unbounded)."""


def in_range(day: date, start: date | None, end: date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


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


def read_exports(
    paths: Sequence[str | os.PathLike[str]], *, lenient: bool, max_bad_rows: int = 0
) -> list[CostRow]:
    """Daily rows of export files through the core reader, logging each lenient repair
    (WARNING) and each row set aside under ``max_bad_rows`` (ERROR, with its raw cost text).

    Raises costguard_core.errors.InputError (naming file, row and field) on bad input, and
    (naming the file and the currency) for a file whose currency a CostRow cannot hold: the
    lenient read keeps a non-ISO code such as koku's "MC" as given, but the backend stores
    3-letter ISO 4217 codes only, so such rows are never posted.
    """
    daily = read_daily(paths, lenient=lenient, max_bad_rows=max_bad_rows)
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
    return daily.to_cost_rows()


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

    def build(self, name: str, settings: dict) -> Adapter:
        """An adapter from its name and raw settings (pydantic.ValidationError if invalid)."""
        cls = self.get(name)
        return cls(cls.Settings.model_validate(settings))


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

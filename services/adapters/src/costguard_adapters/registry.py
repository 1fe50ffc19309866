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

from costguard_core.focus import read_daily
from costguard_core.models import CostRow
from pydantic import BaseModel, Field

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
        description="Repair mixed CRLF/LF line endings and pad rows missing non-money trailing "
        "columns with NULL instead of refusing the file; every repair is logged as a warning "
        "(file, row, what). A row missing a cost column is still an error.",
    )


def read_exports(paths: Sequence[str | os.PathLike[str]], *, lenient: bool) -> list[CostRow]:
    """Daily rows of export files through the core reader, logging each lenient repair.

    Raises costguard_core.errors.InputError (naming file, row and field) on bad input.
    """
    daily = read_daily(paths, lenient=lenient)
    for warning in daily.warnings:
        log.warning("lenient read repaired %s", warning)
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

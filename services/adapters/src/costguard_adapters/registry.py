"""Billing adapters registered by name (cloud-custodian style): a new source is one new module."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from datetime import date
from typing import ClassVar

from costguard_core.models import CostRow
from pydantic import BaseModel


class Adapter(ABC):
    """One billing source. ``Settings`` is the pydantic model of its configuration."""

    name: ClassVar[str]
    Settings: ClassVar[type[BaseModel]]

    def __init__(self, settings: BaseModel) -> None:
        self.settings = settings

    @abstractmethod
    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        """FOCUS daily rows with ChargePeriodStart in ``[start, end]`` (None = unbounded)."""


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


adapters = Registry()

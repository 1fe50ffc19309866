"""The poller's configuration file (ADAPTERS_CONFIG), YAML or JSON, validated on load.

Shape (see config/adapters.example.yaml)::

    batch_size: 5000          # rows per POST (1-50000; the backend takes up to 50000)
    retry_attempts: 8         # tries per batch before it waits in the spool for the next cycle
    retry_max_wait_s: 30      # cap of the exponential backoff between tries (s)
    sources:
      - name: prod-cur        # unique; the backend source is "<adapter>:<name>"
        adapter: aws-cur      # a registered adapter (costguard_adapters.registry)
        interval_s: 3600      # poll period (s); default POLL_INTERVAL_S
        start: 2024-01-01     # first UTC day of the first poll; default: all the source has
        settings: {...}       # the adapter's Settings (incl. restatement_days)

:func:`load_config` raises :class:`ConfigError` naming the file and the field, e.g.
``adapters.yaml: sources[1].settings.paths: Field required``.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from costguard_adapters.registry import load_all


class ConfigError(ValueError):
    """The configuration file is missing, unparsable or invalid."""


class SourceConfig(BaseModel):
    """One configured source: ``{"name": "prod-cur", "adapter": "file", "settings": {...}}``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")
    adapter: str
    settings: dict[str, Any] = Field(default_factory=dict)
    interval_s: float | None = Field(None, gt=0, description="Poll period (s).")
    start: date | None = Field(None, description="First UTC day of the first poll.")


class PollerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(5_000, ge=1, le=50_000)
    retry_attempts: int = Field(8, ge=1, le=100)
    retry_max_wait_s: float = Field(30.0, gt=0, le=3600)
    sources: list[SourceConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> PollerConfig:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"source name {source.name!r} appears twice")
            seen.add(source.name)
        return self


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "(top level)"


def _first_error(path: Path, exc: ValidationError, prefix: tuple[Any, ...] = ()) -> ConfigError:
    err = exc.errors()[0]
    return ConfigError(f"{path}: {_where(prefix + tuple(err['loc']))}: {err['msg']}")


def parse_config(path: Path, data: Any) -> PollerConfig:
    """Validate already-parsed data, including every source's adapter name and settings."""
    try:
        config = PollerConfig.model_validate(data)
    except ValidationError as exc:
        raise _first_error(path, exc) from exc
    registry = load_all()
    for i, source in enumerate(config.sources):
        try:
            cls = registry.get(source.adapter)
        except KeyError as exc:
            raise ConfigError(f"{path}: sources[{i}].adapter: {exc.args[0]}") from exc
        try:
            cls.Settings.model_validate(source.settings)
        except ValidationError as exc:
            raise _first_error(path, exc, ("sources", i, "settings")) from exc
    return config


def load_config(path: Path) -> PollerConfig:
    """Read and validate ``path`` (``.json`` as JSON, anything else as YAML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: line {exc.lineno}: not JSON: {exc.msg}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}: " if mark else ""
        raise ConfigError(f"{path}: {line}not YAML: {exc}") from exc
    return parse_config(path, data)

"""Monitors configured in YAML (or JSON through the API): which series are watched, and each
monitor's thresholds and severity tiers.

Document shape (``config/monitors.example.yaml``)::

    monitors:
      - dimension: total                 # total spend
      - dimension: ServiceName           # one monitor per ServiceName value
        min_impact_usd: 50               # overrides DetectorConfig for these monitors only
        min_impact_pct: 0.2
        combine: or
        values:                          # one ServiceName's own thresholds (and its leaves')
          Azure Kubernetes Service: {min_impact_pct: 0.05}
      - dimension: Tags.team             # one monitor per value of the tag key "team"
        severity_tiers_usd: {medium: 200, high: 2000, critical: 20000}
    leaf_monitors: true                  # also watch every leaf alone (see detection/README.md)
    leaf_percent_of: lasting             # a leaf's percent threshold: by rise (default: the
                                         # resource's own for lasting rises, its parent's for
                                         # one- or two-day ones), "parent" or "resource"

``dimension`` is ``total``, ``ProviderName``, ``ServiceName``, ``SubAccountId``, ``RegionId`` or
``Tags.<key>``. Unset thresholds fall back to the ``DetectorConfig`` given to ``detect``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from costguard_core.detection.config import DetectorConfig
from costguard_core.errors import InputError
from costguard_core.models import Severity

#: Dimensions a monitor can split spend by, besides ``total`` and ``Tags.<key>``.
DIMENSIONS: tuple[str, ...] = ("ProviderName", "ServiceName", "SubAccountId", "RegionId")
TAG_PREFIX = "Tags."


#: What a leaf monitor's percent threshold is a fraction of (``MonitorsConfig.leaf_percent_of``).
LeafPercentOf = Literal["parent", "resource", "lasting"]


class Thresholds(BaseModel):
    """A monitor's thresholds and severity tiers; an unset one falls back (to the monitor
    family's, then to ``DetectorConfig``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_impact_usd: float | None = Field(default=None, ge=0)
    min_impact_pct: float | None = Field(default=None, ge=0)
    combine: Literal["and", "or"] | None = None
    severity_tiers_usd: dict[Severity, float] | None = None

    def set_fields(self) -> dict[str, Any]:
        """The thresholds and tiers that are set."""
        return self.model_dump(include=set(Thresholds.model_fields), exclude_none=True)


class MonitorSpec(Thresholds):
    """One monitor family: total spend, or one series per value of ``dimension``, with the
    family's thresholds and, under ``values``, thresholds for single values (a ServiceName's
    also apply to the leaf monitors under it)."""

    dimension: str = Field(
        description="total, ProviderName, ServiceName, SubAccountId, RegionId or Tags.<key>"
    )
    values: dict[str, Thresholds] | None = Field(
        default=None,
        description="Thresholds of single monitors of this family, by value (e.g. one "
        "ServiceName), over the family's; not for total.",
    )

    @field_validator("dimension")
    @classmethod
    def _known(cls, value: str) -> str:
        if value == "total" or value in DIMENSIONS:
            return value
        if value.startswith(TAG_PREFIX) and value[len(TAG_PREFIX) :].strip():
            return value
        raise ValueError(f"must be total, {', '.join(DIMENSIONS)} or Tags.<key>, not {value!r}")

    @model_validator(mode="after")
    def _values_need_a_split(self) -> MonitorSpec:
        if self.values and self.dimension == "total":
            raise ValueError("values: total spend is one series; values are for a dimension")
        return self

    def config(self, base: DetectorConfig, value: str | None = None) -> DetectorConfig:
        """``base`` with this family's thresholds and tiers, then those set for ``value`` under
        ``values`` (validated as DetectorConfig)."""
        update = self.set_fields()
        if value is not None and self.values and value in self.values:
            update |= self.values[value].set_fields()
        return DetectorConfig.model_validate(base.model_dump() | update) if update else base


class MonitorsConfig(BaseModel):
    """The monitors file: at least one monitor, each dimension once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monitors: list[MonitorSpec] = Field(min_length=1)
    leaf_monitors: bool = True
    leaf_percent_of: LeafPercentOf = Field(
        default="lasting",
        description="What a leaf monitor's percent threshold (its parent ServiceName monitor's "
        "min_impact_pct) is a fraction of. 'parent': the smaller of its ServiceName's and "
        "SubAccountId's expected spend, so a resource's rise must be material to the service "
        "and account it sits in (quiet on noisy small resources; a +60 USD/day rise on one of "
        "50 equal resources is 2 % of its service and waits for that service's own monitor). "
        "'resource': the resource's own expected spend, so a rise large for the resource alerts "
        "once it also passes min_impact_usd (more alerts; bench/README.md, session 18). "
        "'lasting' (the default since session 23): the resource's own for the rules that need "
        "a lasting rise (three days running, a drift, a new resource) and the parent's for a "
        "one- or two-day rise, so a resource's sustained rise alerts by its third day while "
        "its short blips must matter to the service and account (bench/README.md, session "
        "23: fewer errors on every labelled family).",
    )

    @field_validator("monitors")
    @classmethod
    def _unique(cls, value: list[MonitorSpec]) -> list[MonitorSpec]:
        seen = [m.dimension for m in value]
        dupes = sorted({d for d in seen if seen.count(d) > 1})
        if dupes:
            raise ValueError(f"dimension listed more than once: {', '.join(dupes)}")
        return value

    def spec(self, dimension: str | None) -> MonitorSpec | None:
        """The spec for a monitor column (``None`` = total), or None when not configured."""
        name = "total" if dimension is None else dimension
        return next((m for m in self.monitors if m.dimension == name), None)

    @property
    def columns(self) -> tuple[str, ...]:
        """Configured dimensions other than total, in file order."""
        return tuple(m.dimension for m in self.monitors if m.dimension != "total")


#: What ``detect`` watches without a monitors file.
DEFAULT_MONITORS = MonitorsConfig(
    monitors=[
        MonitorSpec(dimension="total"),
        MonitorSpec(dimension="ProviderName"),
        MonitorSpec(dimension="ServiceName"),
        MonitorSpec(dimension="SubAccountId"),
    ]
)


def _where(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def error_text(err: ValidationError) -> str:
    """``monitors[2].min_impact_usd: Input should be greater than or equal to 0``; one per line."""
    return "\n".join(f"{_where(tuple(e['loc']))}: {e['msg']}" for e in err.errors())


def parse_monitors(document: Any, source: str = "monitors") -> MonitorsConfig:
    """Validate a parsed document. Raises ``InputError`` naming the field (see ``error_text``)."""
    try:
        return MonitorsConfig.model_validate(document)
    except ValidationError as err:
        raise InputError(error_text(err), path=source) from None


def yaml_problem(exc: yaml.YAMLError) -> str:
    """``line 3, column 4: expected <block end>, but found '<block mapping start>'`` (1-based,
    where the parser noticed the problem), or PyYAML's own text when it gives no position."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
    return str(exc)


def load_monitors(path: str | Path) -> MonitorsConfig:
    """Read a YAML (or JSON) monitors file. Raises ``InputError`` naming the file and field, or
    for a YAML syntax error the file, line and column (``yaml_problem``, as the backend's and
    the dashboard's messages)."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InputError(f"not valid YAML: {yaml_problem(err)}", path=str(path)) from None
    return parse_monitors(document, str(path))


def with_tag_columns(frame: pd.DataFrame, tag_cols: tuple[str, ...]) -> pd.DataFrame:
    """A copy of a FOCUS frame with one column per ``Tags.<key>``: the key's value in the row's
    JSON ``Tags`` (text) or None. Raises ``InputError`` when the frame has no Tags column."""
    if "Tags" not in frame.columns:
        raise InputError("tag monitors need a Tags column", field="Tags")
    texts = frame["Tags"].astype(object).where(frame["Tags"].notna(), None)
    parsed: dict[Any, dict] = {}
    for text in pd.unique(texts):
        try:
            value = json.loads(text) if isinstance(text, str) and text else (text or {})
        except json.JSONDecodeError:
            value = {}
        parsed[text] = value if isinstance(value, dict) else {}
    out = frame.copy()
    for col in tag_cols:
        key = col[len("Tags.") :]
        values = {t: (None if d.get(key) is None else str(d[key])) for t, d in parsed.items()}
        out[col] = texts.map(values)
    return out

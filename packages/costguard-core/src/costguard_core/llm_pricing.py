"""LLM API usage as FOCUS daily rows (hourly rows for records with a timestamp), priced from
the repo's model price table when the source gives tokens only.

Price table: ``llm_prices.json`` next to this module, USD per 1,000,000 tokens, standard
(non-batch, uncached) rates, transcribed from the providers' public pricing pages
(openai.com/api/pricing, anthropic.com/pricing#api, ai.google.dev/pricing; Gemini 1.5 Pro at
the <=128k-token prompt tier) as of late 2024. Prices change: the table is data, edit it.
A usage record whose model is not in the table and that carries no cost is refused.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Context, Decimal, localcontext
from functools import cache
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from costguard_core.models import CostHourlyRow, CostRow

SERVICE_CATEGORY = "AI and Machine Learning"
R = TypeVar("R", bound=CostRow)
_PER = Decimal(1_000_000)
_EXACT = Context(prec=80)


class LlmUsage(BaseModel):
    """One usage record: a day's (or a call's) tokens for one provider/model/project.

    Give ``day`` or ``timestamp`` (ISO 8601; without an offset it is read as UTC); a timestamp
    is reduced to its UTC day, which then fills ``day``. ``cost`` (in ``currency``) wins when
    given; otherwise input/output tokens are priced from the table (USD). Records for the same
    day/provider/model/project/tags are summed (``usage_rows``); records with a timestamp can
    instead be summed per UTC hour (``usage_hourly_rows``).
    """

    model_config = ConfigDict(extra="forbid")

    day: date | None = Field(None, description="UTC day of the usage.")
    timestamp: datetime | None = Field(None, description="When the usage happened.")
    provider: str = Field(min_length=1, description="e.g. openai, anthropic, google")
    model: str = Field(min_length=1, description="Model id as billed, e.g. gpt-4o-mini")
    input_tokens: int = Field(0, ge=0)
    output_tokens: int = Field(0, ge=0)
    requests: int = Field(0, ge=0)
    cost: Decimal | None = Field(None, description="Billed cost when the source gives it.")
    currency: str = Field("USD", min_length=3, max_length=3)
    project: str | None = Field(None, description="Project/API key owner -> SubAccountId.")
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_day(self) -> LlmUsage:
        if self.timestamp is not None:
            stamp = self.timestamp
            utc_day = (stamp.astimezone(UTC) if stamp.tzinfo else stamp).date()
            if self.day is not None and self.day != utc_day:
                raise ValueError(f"day {self.day} is not the UTC day of timestamp {stamp}")
            self.day = utc_day
        if self.day is None:
            raise ValueError("give day or timestamp")
        return self


class UnknownModel(ValueError):
    """A tokens-only record for a model the price table does not list (``index``: its position
    in the list given to ``split_by_granularity``, when raised there)."""

    index: int | None = None


class MixedGranularity(ValueError):
    """A day-only record (position ``index``) whose UTC day and leaf also have a timestamped
    record (position ``hourly_index``): a day given by hours is the sum of its hours."""

    def __init__(self, index: int, hourly_index: int) -> None:
        super().__init__(
            f"record {hourly_index} gives an hour of the same day, provider, model, project and "
            "tags; a day given by hours is the sum of its hours: give this record a timestamp too"
        )
        self.index = index
        self.hourly_index = hourly_index


def split_by_granularity(
    records: Sequence[LlmUsage],
) -> tuple[list[LlmUsage], list[LlmUsage]]:
    """``(day-only records, timestamped records)``, each in input order.

    Raises ``UnknownModel`` (with ``index``) for a record that must be priced and cannot, and
    ``MixedGranularity`` for a day-only record whose day and leaf also have a timestamped one
    (the backend's ``POST /llm-usage`` and the ``llm-usage`` adapter both refuse it).
    """
    keys = []
    for i, record in enumerate(records):
        try:
            keys.append((record.day, *leaf_key(record)))
        except UnknownModel as exc:
            exc.index = i
            raise
    hourly: dict[tuple, int] = {}
    for i, (record, key) in enumerate(zip(records, keys, strict=True)):
        if record.timestamp is not None:
            hourly.setdefault(key, i)
    for i, (record, key) in enumerate(zip(records, keys, strict=True)):
        if record.timestamp is None and key in hourly:
            raise MixedGranularity(i, hourly[key])
    daily = [r for r in records if r.timestamp is None]
    return daily, [r for r in records if r.timestamp is not None]


@cache
def price_table() -> dict[str, tuple[Decimal, Decimal]]:
    """``"provider/model" -> (input, output)`` USD per 1M tokens, from llm_prices.json."""
    raw = json.loads(resources.files("costguard_core").joinpath("llm_prices.json").read_text())
    return {k: (Decimal(v["input"]), Decimal(v["output"])) for k, v in raw["models"].items()}


def price(record: LlmUsage) -> tuple[Decimal, str]:
    """``(cost, currency)`` of one record; UnknownModel when it must be priced and cannot."""
    if record.cost is not None:
        return record.cost, record.currency
    key = f"{record.provider.lower()}/{record.model.lower()}"
    rates = price_table().get(key)
    if rates is None:
        # Dated snapshots ("gpt-4o-mini-2024-07-18") are priced as their family: the longest
        # listed name they extend, so gpt-4o-mini-* is never priced as gpt-4o.
        family = [k for k in price_table() if key.startswith(k + "-")]
        rates = price_table()[max(family, key=len)] if family else None
    if rates is None:
        raise UnknownModel(f"model {key!r} has no cost and is not in the price table")
    return (record.input_tokens * rates[0] + record.output_tokens * rates[1]) / _PER, "USD"


def usage_hour(record: LlmUsage) -> datetime:
    """The start of the UTC hour of ``record.timestamp`` (a timestamp without an offset is UTC);
    ``ValueError`` for a record that gives only a day."""
    if record.timestamp is None:
        raise ValueError("record has no timestamp")
    stamp = record.timestamp
    stamp = stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    return stamp.replace(minute=0, second=0, microsecond=0)


def leaf_key(record: LlmUsage) -> tuple[str, str, str | None, str, str]:
    """``(provider, model, project, currency, tags JSON)``: the leaf a record's cost goes to.
    Raises UnknownModel (see :func:`price`)."""
    return (
        record.provider,
        record.model,
        record.project,
        price(record)[1],
        json.dumps(record.tags, sort_keys=True),
    )


def _sums(
    records: list[LlmUsage], period: Callable[[LlmUsage], date | None]
) -> list[tuple[tuple, Decimal]]:
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    with localcontext(_EXACT):  # the default 28 digits would round long sums
        for rec in records:
            cost, _ = price(rec)
            sums[(period(rec), *leaf_key(rec))] += cost
    return sorted(sums.items(), key=lambda kv: tuple(str(x) for x in kv[0]))


def _row(cls: type[R], key: tuple, cost: Decimal) -> R:
    start, provider, model, project, currency, tags = key
    return cls(
        ChargePeriodStart=start,
        ProviderName=provider,
        ServiceName=f"{provider} API",
        ServiceCategory=SERVICE_CATEGORY,
        ResourceId=model,
        SubAccountId=project,
        ChargeCategory="Usage",
        BillingCurrency=currency,
        Tags=json.loads(tags),
        BilledCost=cost,
        EffectiveCost=cost,
    )


def usage_rows(records: list[LlmUsage]) -> list[CostRow]:
    """FOCUS daily rows (ServiceCategory "AI and Machine Learning"), one per UTC day and leaf.

    ProviderName is the provider, ServiceName ``"<provider> API"``, ResourceId the model,
    SubAccountId the project. Raises UnknownModel (see :func:`price`).
    """
    return [_row(CostRow, key, cost) for key, cost in _sums(records, lambda r: r.day)]


def usage_hourly_rows(records: list[LlmUsage]) -> list[CostHourlyRow]:
    """FOCUS hourly rows, one per UTC hour (``ChargePeriodStart`` aware UTC) and leaf, named as
    :func:`usage_rows` names them; every record needs a ``timestamp``. Raises UnknownModel, and
    ``ValueError`` for a record without a timestamp."""
    return [_row(CostHourlyRow, key, cost) for key, cost in _sums(records, usage_hour)]

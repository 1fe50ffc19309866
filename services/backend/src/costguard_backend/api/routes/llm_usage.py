"""``POST /api/v1/llm-usage``: LLM API usage records stored as FOCUS hourly or daily cost rows.

Body: a JSON list (at most 50,000) of :class:`costguard_core.llm_pricing.LlmUsage` records,
``{"provider", "model", "day" | "timestamp", "input_tokens", "output_tokens", "requests",
"cost"?, "currency"?, "project"?, "tags"?}``. A record without ``cost`` is priced from the
repo's model price table (USD per 1M tokens, llm_prices.json). Records with a ``timestamp``
are summed per UTC hour, provider, model, project and tags into hourly rows (``cost_hourly``;
the day's daily row is then the sum of its hours, so the hourly detector sees them the same
day); records with only a ``day`` are summed per UTC day into daily rows. Rows have
ServiceCategory "AI and Machine Learning" and are stored by the backend's cost ingest, in one
transaction, under source ``llm-usage:<source>`` (query parameter, default ``api``), so the
same rule holds as for every source: re-posting the same totals changes nothing and a later post
for the same hour (or day) and leaf replaces it (post running totals, not increments). A leaf's
day is given by hours or by a day total, not both: a day-only record for a day and leaf that
has timestamped records (in the batch: 422 ``[i].day``; stored: 422 ``rows[i].ChargePeriodStart``)
is refused. Roles: agent, admin. A bad record answers 422
``{"error": "invalid_field", "field": "[i].<field>", "row": i}`` and nothing is stored; an
hourly row's money error names ``hourly_rows[i].<field>``.
"""

from __future__ import annotations

from typing import Annotated, Any

from costguard_core.llm_pricing import (
    LlmUsage,
    MixedGranularity,
    UnknownModel,
    split_by_granularity,
    usage_hourly_rows,
    usage_rows,
)
from costguard_core.models import IngestResult
from fastapi import APIRouter, Body, Query
from pydantic import ValidationError

from costguard_backend import metrics
from costguard_backend.api.deps import RequestIdDep, SessionDep, SettingsDep, Writer
from costguard_backend.errors import FieldError
from costguard_backend.ingest import store

router = APIRouter(prefix="/llm-usage", tags=["costs"])

MAX_RECORDS = 50_000


def _records(body: list[Any]) -> list[LlmUsage]:
    records = []
    for i, item in enumerate(body):
        try:
            record = LlmUsage.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = "".join(f".{p}" if isinstance(p, str) else f"[{p}]" for p in err["loc"])
            raise FieldError(f"[{i}]{where}", err["msg"], row=i) from exc
        try:
            usage_rows([record])  # priced one by one so an unknown model names its record
        except UnknownModel as exc:
            raise FieldError(f"[{i}].model", str(exc), row=i) from exc
        records.append(record)
    return records


def _split(records: list[LlmUsage]) -> tuple[list[LlmUsage], list[LlmUsage]]:
    """``(day-only records, timestamped records)``; ``FieldError`` ``[i].day`` for a day-only
    record whose day and leaf also have a timestamped record (that day is the sum of its hours)."""
    try:
        return split_by_granularity(records)
    except MixedGranularity as exc:
        raise FieldError(
            f"[{exc.index}].day",
            f"record [{exc.hourly_index}] gives an hour of the same day, provider, model, "
            "project and tags; a day given by hours is the sum of its hours: give this record "
            "a timestamp too",
            row=exc.index,
        ) from None


@router.post("", response_model=IngestResult)
def post_llm_usage(
    body: Annotated[list[Any], Body(max_length=MAX_RECORDS)],
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    request_id: RequestIdDep,
    source: Annotated[str, Query(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")] = (
        "api"
    ),
) -> IngestResult:
    """Price and store usage records all-or-nothing; returns the ingest's row counts (hourly
    and daily rows together)."""
    with metrics.INGEST_REJECTED.count_exceptions(FieldError):
        daily, hourly = _split(_records(body))
        return store(
            session=session,
            source=f"llm-usage:{source}",
            daily=usage_rows(daily),
            hourly=usage_hourly_rows(hourly),
            hourly_prefix="hourly_rows",
            actor=principal.name,
            request_id=request_id,
            image_digest=settings.IMAGE_DIGEST,
        )

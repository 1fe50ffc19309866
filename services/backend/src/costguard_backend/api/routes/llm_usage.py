"""``POST /api/v1/llm-usage``: LLM API usage records stored as FOCUS daily cost rows.

Body: a JSON list (at most 50,000) of :class:`costguard_core.llm_pricing.LlmUsage` records,
``{"provider", "model", "day" | "timestamp", "input_tokens", "output_tokens", "requests",
"cost"?, "currency"?, "project"?, "tags"?}``. A record without ``cost`` is priced from the
repo's model price table (USD per 1M tokens, llm_prices.json). Records are summed per UTC day,
provider, model, project and tags into rows with ServiceCategory "AI and Machine Learning"
and stored by the backend's cost ingest under source ``llm-usage:<source>`` (query parameter,
default ``api``), so the same rule holds as for every source: re-posting the same totals changes
nothing and a later post for the same day and leaf replaces it (post a day's running total,
not increments). Roles: agent, admin. A bad record answers 422
``{"error": "invalid_field", "field": "[i].<field>", "row": i}`` and nothing is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from costguard_core.llm_pricing import LlmUsage, UnknownModel, usage_rows
from costguard_core.models import CostIngest, IngestResult
from fastapi import APIRouter, Body, Query
from pydantic import ValidationError

from costguard_backend import metrics
from costguard_backend.api.deps import RequestIdDep, SessionDep, SettingsDep, Writer
from costguard_backend.errors import FieldError
from costguard_backend.ingest import ingest_costs

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
    """Price and store usage records all-or-nothing; returns the ingest's row counts."""
    try:
        rows = usage_rows(_records(body))
        batch = CostIngest(source=f"llm-usage:{source}", rows=rows)
        return ingest_costs(
            session=session,
            batch=batch,
            actor=principal.name,
            request_id=request_id,
            image_digest=settings.IMAGE_DIGEST,
        )
    except FieldError:
        metrics.INGEST_REJECTED.inc()
        raise

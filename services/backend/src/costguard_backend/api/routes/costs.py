"""``/api/v1/costs``: ingest FOCUS daily and hourly rows, list them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from costguard_core.models import (
    CostHourlyIngest,
    CostHourlyRow,
    CostIngest,
    CostRow,
    IngestResult,
    Page,
)
from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from costguard_backend import metrics
from costguard_backend.api.deps import Reader, RequestIdDep, SessionDep, SettingsDep, Writer
from costguard_backend.errors import FieldError
from costguard_backend.ingest import ingest_costs, list_costs, list_hourly, store

router = APIRouter(prefix="/costs", tags=["costs"])


@router.post("/ingest", response_model=IngestResult)
def ingest(
    batch: CostIngest,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> IngestResult:
    """Store a batch all-or-nothing (422 ``{"error":"invalid_field","field":"rows[i].Column"}``)."""
    with metrics.INGEST_REJECTED.count_exceptions(FieldError):
        return ingest_costs(
            session=session,
            batch=batch,
            actor=principal.name,
            request_id=request_id,
            image_digest=settings.IMAGE_DIGEST,
        )


@router.get("", response_model=Page[CostRow])
def read_costs(
    session: SessionDep,
    _: Reader,
    start: date | None = None,
    end: date | None = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
    resource_id: Annotated[str | None, Query(max_length=2048)] = None,
) -> Page[CostRow]:
    """Rows with ``start <= ChargePeriodStart <= end`` (UTC days) and, if given, that
    ``ResourceId`` (the executor's "still costly" pre-check), by day then dimensions."""
    rows, count = list_costs(
        session=session,
        start=start,
        end=end,
        limit=limit,
        offset=offset,
        resource_id=resource_id,
    )
    return Page[CostRow](data=rows, count=count)


@router.post("/ingest-hourly", response_model=IngestResult)
def ingest_hourly(
    batch: CostHourlyIngest,
    session: SessionDep,
    principal: Writer,
    settings: SettingsDep,
    request_id: RequestIdDep,
) -> IngestResult:
    """Store hourly rows all-or-nothing (counts are of hourly rows) and, in the same
    transaction, set the source's daily rows of those days and leaves to the sums of their
    hours. An hour that is not a whole, zoned UTC hour is FastAPI's 422 naming
    ``body.rows.<i>.ChargePeriodStart``; other refusals name ``rows[i].Column``."""
    with metrics.INGEST_REJECTED.count_exceptions(FieldError):
        return store(
            session=session,
            source=batch.source,
            daily=(),
            hourly=batch.rows,
            actor=principal.name,
            request_id=request_id,
            image_digest=settings.IMAGE_DIGEST,
        )


@router.get("/hourly", response_model=Page[CostHourlyRow])
def read_hourly(
    session: SessionDep,
    _: Reader,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[CostHourlyRow]:
    """Hourly rows with ``since <= ChargePeriodStart < until`` (timezone-aware, e.g.
    ``2025-03-01T00:00:00Z``), by hour then dimensions (the detective's hourly pass)."""
    rows, count = list_hourly(session=session, since=since, until=until, limit=limit, offset=offset)
    return Page[CostHourlyRow](data=rows, count=count)

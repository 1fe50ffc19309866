"""Cost ingest: idempotent, all-or-nothing upsert of FOCUS daily rows into ``cost_daily`` and
hourly rows into ``cost_hourly``.

A row's key is ``sha256`` of the canonical JSON of source, ChargePeriodStart (a day, or an aware
UTC hour), every FOCUS dimension (``costguard_core.models.DIMENSIONS``) and Tags. Same key and
same costs → unchanged; same key with different BilledCost/EffectiveCost/ListCost → updated (a
provider restatement). Every row is checked before anything is written; one bad row raises
``FieldError`` and the batch leaves no trace. Currencies are stored per row and never summed
together.

**Hourly sources.** An hourly row's *day key* is the key a daily row of the same source, UTC day
and leaf would have. Once a day key has hourly rows, its ``cost_daily`` row is the exact sum of
them, recomputed in the transaction that stores them (``rollup.py``), so everything that reads
``cost_daily`` sees the same money once; a daily row posted earlier with that key is replaced
by the sum (a restatement at a finer grain), and a daily row posted later with that key is
refused (422 naming it), as is a batch holding both. On PostgreSQL both ingests take a
transaction-scoped advisory lock per source, so concurrent batches of one source apply in turn.
On SQLite the ingest's first statement is a write (its ``ingestion`` row), which takes the
database's write lock before anything is read, so the same holds (session 11: the check for
hourly rows ran before it, and an hourly batch committed in between let a daily row overwrite
the sum of its hours).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from costguard_core.models import (
    DIMENSIONS,
    CostHourlyRow,
    CostIngest,
    CostRow,
    IngestResult,
)
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.core.sqltypes import MoneyPrecisionError, check_money
from costguard_backend.errors import FieldError, check_lengths
from costguard_backend.models import CostDaily, CostHourly, CostLeaf, Ingestion
from costguard_backend.rollup import MONEY_FIELDS, costs, hourly_day_keys, roll_up, upsert
from costguard_backend.workflow import record_audit

_CHUNK = 500
_ORDER = ("ChargePeriodStart", *DIMENSIONS)


def _bad(prefix: str, i: int, column: str, message: str) -> FieldError:
    return FieldError(f"{prefix}[{i}].{column}", message, row=i)


def row_key(source: str, row: CostRow, period: date | None = None) -> str:
    """The hex sha256 identifying ``row`` from ``source`` (period + dimensions + Tags); the
    period is ``row.ChargePeriodStart`` (a day, or an hour for a ``CostHourlyRow``) unless
    ``period`` is given (an hourly row's UTC day: its day key)."""
    key = {name: getattr(row, name) for name in DIMENSIONS}
    start = row.ChargePeriodStart if period is None else period
    key.update(source=source, ChargePeriodStart=start.isoformat(), Tags=row.Tags)
    canonical = json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def day_key(source: str, row: CostHourlyRow) -> str:
    """The ``cost_daily`` key of ``row``'s UTC day and leaf (what its cost is summed into)."""
    return row_key(source, row, row.ChargePeriodStart.date())


def _check_rows(
    prefix: str, source: str, rows: Sequence[CostRow], table: type[CostLeaf]
) -> dict[str, dict[str, Any]]:
    """Each row's storable values by key (``_i``: its index); ``FieldError`` for a bad row or two
    rows with the same key and different costs. Hourly rows also get ``day_key_sha256``."""
    checked: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(rows):
        values = row.model_dump()
        for name in MONEY_FIELDS:
            if values[name] is not None:
                try:
                    values[name] = check_money(values[name])
                except MoneyPrecisionError as exc:
                    raise _bad(prefix, i, name, str(exc)) from exc
        try:
            check_lengths(table.__table__, values)  # type: ignore[attr-defined]
        except FieldError as exc:
            raise _bad(prefix, i, exc.field, exc.message) from exc
        if isinstance(row, CostHourlyRow):
            values["day_key_sha256"] = day_key(source, row)
        key = row_key(source, row)
        earlier = checked.get(key)
        if earlier is not None and costs(values) != costs(earlier):
            raise _bad(
                prefix, i, "BilledCost", f"same key as {prefix}[{earlier['_i']}], other costs"
            )
        checked.setdefault(key, {**values, "_i": i})
    return checked


def ingest_costs(
    *, session: Session, batch: CostIngest, actor: str, request_id: str | None, image_digest: str
) -> IngestResult:
    """Store a daily batch in one transaction and commit; return the row counts.

    Raises ``FieldError`` naming ``rows[i].Column`` (nothing written) for a bad row, for two
    rows with the same key and different costs, or for a row whose day and leaf have hourly rows
    from the same source (its daily row is their sum).
    """
    return store(
        session=session, source=batch.source, daily=batch.rows, hourly=(), actor=actor,
        request_id=request_id, image_digest=image_digest,
    )  # fmt: skip


def store(
    *,
    session: Session,
    source: str,
    daily: Sequence[CostRow],
    hourly: Sequence[CostHourlyRow],
    actor: str,
    request_id: str | None,
    image_digest: str,
    daily_prefix: str = "rows",
    hourly_prefix: str = "rows",
) -> IngestResult:
    """Store one source's daily and hourly rows in one transaction, roll the hourly rows' days
    up into ``cost_daily``, audit and commit; counts are over both kinds of rows (the rolled-up
    daily rows are counted in the audit event). ``FieldError`` names ``<prefix>[i].Column`` and
    nothing is written. A concurrent ingest inserting the same new key makes this one retry once.
    """
    batch = _Batch(
        source=source,
        daily_prefix=daily_prefix,
        hourly_prefix=hourly_prefix,
        daily=_check_rows(daily_prefix, source, daily, CostDaily),
        hourly=_check_rows(hourly_prefix, source, hourly, CostHourly),
        received=len(daily) + len(hourly),
    )
    hourly_days = {v["day_key_sha256"]: v["_i"] for v in batch.hourly.values()}
    for key, values in batch.daily.items():
        if key in hourly_days:
            raise _conflict(daily_prefix, values, f"{hourly_prefix}[{hourly_days[key]}]")
    for attempt in (1, 2):
        try:
            return _write(session, batch, actor, request_id, image_digest)
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _Batch:
    """Checked rows of one ingest (key → column values, ``_i`` the row's index)."""

    source: str
    daily_prefix: str
    hourly_prefix: str
    daily: dict[str, dict[str, Any]]
    hourly: dict[str, dict[str, Any]]
    received: int


def _conflict(prefix: str, values: dict[str, Any], hours: str) -> FieldError:
    return _bad(
        prefix,
        values["_i"],
        "ChargePeriodStart",
        f"this day and leaf have hourly rows ({hours}) from the same source: its daily row is "
        "their sum; post its hours to /api/v1/costs/ingest-hourly instead",
    )


def _lock_source(session: Session, source: str) -> None:
    """Serialise this source's ingests (PostgreSQL advisory lock, released at commit)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"ingest:{source}"}
        )


def _write(
    session: Session, batch: _Batch, actor: str, request_id: str | None, image_digest: str
) -> IngestResult:
    source = batch.source
    _lock_source(session, source)
    content = json.dumps(sorted([*batch.daily, *batch.hourly])).encode()
    ingestion = Ingestion(
        source=source,
        content_sha256=hashlib.sha256(content).hexdigest(),
        received=batch.received,
        inserted=0,
        updated=0,
        unchanged=0,
        actor=actor,
    )
    session.add(ingestion)
    # On SQLite this INSERT takes the write lock (``_lock_source`` is PostgreSQL's): every read
    # below sees no concurrent ingest. A refusal below rolls it back with the rest.
    session.flush()
    assert ingestion.id is not None
    clashes = hourly_day_keys(session, list(batch.daily))
    if clashes:
        first = min((batch.daily[k] for k in clashes), key=lambda v: v["_i"])
        raise _conflict(batch.daily_prefix, first, "stored")
    ins_d, upd_d = upsert(session, CostDaily, source, batch.daily, ingestion.id)
    ins_h, upd_h = upsert(session, CostHourly, source, batch.hourly, ingestion.id)
    rolled = roll_up(session, source, batch.hourly, ingestion.id, batch.hourly_prefix)
    ingestion.inserted = ins_d + ins_h
    ingestion.updated = upd_d + upd_h
    ingestion.unchanged = ingestion.received - ingestion.inserted - ingestion.updated
    detail: dict[str, Any] = {
        "source": source,
        "inserted": ingestion.inserted,
        "updated": ingestion.updated,
    }
    if batch.hourly:
        detail.update(hourly=len(batch.hourly), daily_rollup=rolled)
    record_audit(
        session,
        entity_type="ingestion",
        entity_id=str(ingestion.id),
        actor=actor,
        action="ingest",
        detail=detail,
        request_id=request_id,
        image_digest=image_digest,
    )
    session.commit()
    for result in ("inserted", "updated", "unchanged"):
        metrics.INGESTED_ROWS.labels(result).inc(getattr(ingestion, result))
    return IngestResult(
        ingestion_id=ingestion.id,
        source=ingestion.source,
        received=ingestion.received,
        inserted=ingestion.inserted,
        updated=ingestion.updated,
        unchanged=ingestion.unchanged,
    )


def list_costs(
    *,
    session: Session,
    start: date | None,
    end: date | None,
    limit: int,
    offset: int,
    resource_id: str | None = None,
) -> tuple[list[CostRow], int]:
    """Stored rows with ``start <= ChargePeriodStart <= end`` (UTC days) and, if given, that
    ``ResourceId``, ordered by day then dimensions (NULLs first on both backends), and the total
    count before limit/offset."""
    conditions = []
    if resource_id is not None:
        conditions.append(col(CostDaily.ResourceId) == resource_id)
    if start:
        conditions.append(col(CostDaily.ChargePeriodStart) >= start)
    if end:
        conditions.append(col(CostDaily.ChargePeriodStart) <= end)
    count = session.scalar(select(func.count()).select_from(CostDaily).where(*conditions)) or 0
    order = [getattr(CostDaily, name).asc().nulls_first() for name in _ORDER]
    stmt = (
        select(CostDaily)
        .where(*conditions)
        .order_by(*order, col(CostDaily.id))
        .limit(limit)
        .offset(offset)
    )
    return [r.to_public() for r in session.scalars(stmt)], count


def list_hourly(
    *,
    session: Session,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[CostHourlyRow], int]:
    """Stored hourly rows with ``since <= ChargePeriodStart < until`` (aware, UTC), ordered by
    hour then dimensions (NULLs first on both backends), and the total count before
    limit/offset."""
    conditions = []
    if since:
        conditions.append(col(CostHourly.ChargePeriodStart) >= since)
    if until:
        conditions.append(col(CostHourly.ChargePeriodStart) < until)
    count = session.scalar(select(func.count()).select_from(CostHourly).where(*conditions)) or 0
    order = [getattr(CostHourly, name).asc().nulls_first() for name in _ORDER]
    stmt = (
        select(CostHourly)
        .where(*conditions)
        .order_by(*order, col(CostHourly.id))
        .limit(limit)
        .offset(offset)
    )
    return [r.to_public() for r in session.scalars(stmt)], count

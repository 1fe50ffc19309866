"""Cost ingest: idempotent, all-or-nothing upsert of FOCUS daily rows into ``cost_daily``.

A row's key is ``sha256`` of the canonical JSON of source, ChargePeriodStart, every FOCUS
dimension (``costguard_core.models.DIMENSIONS``) and Tags. Same key and same costs → unchanged;
same key with different BilledCost/EffectiveCost/ListCost → updated (a provider restatement).
Every row is checked before anything is written; one bad row raises ``FieldError`` and the batch
leaves no trace. Currencies are stored per row and never summed together.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

from costguard_core.models import DIMENSIONS, CostIngest, CostRow, IngestResult
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend import metrics
from costguard_backend.core.sqltypes import MoneyPrecisionError, check_money
from costguard_backend.errors import FieldError, check_lengths
from costguard_backend.models import CostDaily, Ingestion
from costguard_backend.workflow import record_audit

MONEY_FIELDS = ("BilledCost", "EffectiveCost", "ListCost")
_CHUNK = 500
_ORDER = ("ChargePeriodStart", *DIMENSIONS)


def _bad(i: int, column: str, message: str) -> FieldError:
    return FieldError(f"rows[{i}].{column}", message, row=i)


def row_key(source: str, row: CostRow) -> str:
    """The hex sha256 identifying ``row`` from ``source`` (day + dimensions + Tags)."""
    key = {name: getattr(row, name) for name in DIMENSIONS}
    key.update(source=source, ChargePeriodStart=row.ChargePeriodStart.isoformat(), Tags=row.Tags)
    canonical = json.dumps(key, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check_row(i: int, row: CostRow) -> dict[str, Any]:
    values = row.model_dump()
    for name in MONEY_FIELDS:
        if values[name] is not None:
            try:
                values[name] = check_money(values[name])
            except MoneyPrecisionError as exc:
                raise _bad(i, name, str(exc)) from exc
    try:
        check_lengths(CostDaily.__table__, values)  # type: ignore[attr-defined]
    except FieldError as exc:
        raise _bad(i, exc.field, exc.message) from exc
    return values


def _costs(values: dict[str, Any]) -> tuple[Decimal | None, ...]:
    return tuple(values[name] for name in MONEY_FIELDS)


def ingest_costs(
    *, session: Session, batch: CostIngest, actor: str, request_id: str | None, image_digest: str
) -> IngestResult:
    """Store ``batch`` in one transaction and commit; return the row counts.

    Raises ``FieldError`` naming ``rows[i].Column`` (nothing written) for a bad row, or for two
    rows with the same key and different costs. A concurrent ingest inserting the same new key
    makes this one retry once.
    """
    checked: dict[str, dict[str, Any]] = {}
    for i, row in enumerate(batch.rows):
        values = _check_row(i, row)
        key = row_key(batch.source, row)
        earlier = checked.get(key)
        if earlier is not None and _costs(values) != _costs(earlier):
            raise _bad(i, "BilledCost", f"same key as rows[{earlier['_i']}], other costs")
        checked.setdefault(key, {**values, "_i": i})
    for attempt in (1, 2):
        try:
            return _write(session, batch, checked, actor, request_id, image_digest)
        except IntegrityError:
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _write(
    session: Session,
    batch: CostIngest,
    checked: dict[str, dict[str, Any]],
    actor: str,
    request_id: str | None,
    image_digest: str,
) -> IngestResult:
    keys = list(checked)
    existing: dict[str, CostDaily] = {}
    for start in range(0, len(keys), _CHUNK):
        stmt = select(CostDaily).where(col(CostDaily.key_sha256).in_(keys[start : start + _CHUNK]))
        existing.update((c.key_sha256, c) for c in session.scalars(stmt))
    content = json.dumps(sorted(keys)).encode()
    ingestion = Ingestion(
        source=batch.source,
        content_sha256=hashlib.sha256(content).hexdigest(),
        received=len(batch.rows),
        inserted=0,
        updated=0,
        unchanged=0,
        actor=actor,
    )
    session.add(ingestion)
    session.flush()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, values in checked.items():
        row = {k: v for k, v in values.items() if k != "_i"}
        old = existing.get(key)
        if old is None:
            inserts.append(
                {**row, "key_sha256": key, "source": batch.source, "ingestion_id": ingestion.id}
            )
        elif _costs(row) != tuple(getattr(old, name) for name in MONEY_FIELDS):
            costs = {name: row[name] for name in MONEY_FIELDS}
            updates.append({"id": old.id, **costs, "ingestion_id": ingestion.id})
    if inserts:
        session.execute(insert(CostDaily), inserts)
    if updates:
        session.execute(update(CostDaily), updates)
    ingestion.inserted = len(inserts)
    ingestion.updated = len(updates)
    ingestion.unchanged = ingestion.received - len(inserts) - len(updates)
    record_audit(
        session,
        entity_type="ingestion",
        entity_id=str(ingestion.id),
        actor=actor,
        action="ingest",
        detail={
            "source": batch.source,
            "inserted": ingestion.inserted,
            "updated": ingestion.updated,
        },
        request_id=request_id,
        image_digest=image_digest,
    )
    session.commit()
    for result in ("inserted", "updated", "unchanged"):
        metrics.INGESTED_ROWS.labels(result).inc(getattr(ingestion, result))
    return IngestResult(
        ingestion_id=ingestion.id or 0,
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
        .order_by(*order, CostDaily.id)
        .limit(limit)
        .offset(offset)
    )
    return [r.to_public() for r in session.scalars(stmt)], count

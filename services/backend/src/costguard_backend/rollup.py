"""Writing cost rows: the keyed upsert shared by ``cost_daily`` and ``cost_hourly``, and the
roll-up that keeps an hourly source's daily rows equal to the sums of its hours.

**Roll-up rule.** For every day key (source, UTC day, dimensions, Tags) an hourly batch touches,
the ``cost_daily`` row with that key is set to the sum of *all* stored hourly rows with that day
key (not only the batch's), in the batch's transaction: BilledCost and EffectiveCost exactly
(``Decimal``, never rounded: a sum that does not fit NUMERIC(38,24) is refused), ListCost the
same when every hour gives one, else NULL (a partial sum would understate it). Re-posting the
same hours changes nothing; a restated hour restates its day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Context, Decimal, localcontext
from typing import Any

from costguard_core.models import DIMENSIONS
from sqlalchemy import insert, select, update
from sqlmodel import Session, col

from costguard_backend.core.sqltypes import MoneyPrecisionError, check_money
from costguard_backend.errors import FieldError
from costguard_backend.models import CostDaily, CostHourly

MONEY_FIELDS = ("BilledCost", "EffectiveCost", "ListCost")
_CHUNK = 500
#: Enough digits that no sum of NUMERIC(38,24) values is rounded (the default context keeps 28).
SUM_CONTEXT = Context(prec=80)


def costs(values: dict[str, Any]) -> tuple[Decimal | None, ...]:
    """``(BilledCost, EffectiveCost, ListCost)`` of a row's values."""
    return tuple(values[name] for name in MONEY_FIELDS)


def _chunks(keys: Iterable[str]) -> Iterable[list[str]]:
    keys = list(keys)
    for start in range(0, len(keys), _CHUNK):
        yield keys[start : start + _CHUNK]


def upsert(
    session: Session,
    table: type[CostDaily] | type[CostHourly],
    source: str,
    checked: dict[str, dict[str, Any]],
    ingestion_id: int,
) -> tuple[int, int]:
    """Insert the new keys of ``checked`` (key → column values; ``_i`` is ignored) into ``table``
    and update the stored rows whose costs differ; not committed. Returns
    ``(inserted, updated)``."""
    existing: dict[str, tuple[int | None, tuple[Decimal | None, ...]]] = {}
    money = [col(getattr(table, name)) for name in MONEY_FIELDS]
    for chunk in _chunks(checked):
        stmt = select(col(table.key_sha256), col(table.id), *money).where(
            col(table.key_sha256).in_(chunk)
        )
        existing.update((key, (id_, tuple(costs))) for key, id_, *costs in session.execute(stmt))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, values in checked.items():
        row = {k: v for k, v in values.items() if k != "_i"}
        old = existing.get(key)
        if old is None:
            inserts.append(
                {**row, "key_sha256": key, "source": source, "ingestion_id": ingestion_id}
            )
        elif costs(row) != old[1]:
            changed = {name: row[name] for name in MONEY_FIELDS}
            updates.append({"id": old[0], **changed, "ingestion_id": ingestion_id})
    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        session.execute(update(table), updates)
    return len(inserts), len(updates)


def hourly_day_keys(session: Session, day_keys: Iterable[str]) -> set[str]:
    """Those of ``day_keys`` that have stored hourly rows (their daily rows are roll-ups)."""
    found: set[str] = set()
    for chunk in _chunks(day_keys):
        stmt = select(col(CostHourly.day_key_sha256)).where(
            col(CostHourly.day_key_sha256).in_(chunk)
        )
        found.update(session.scalars(stmt.distinct()))
    return found


def _sums(
    session: Session, day_keys: Iterable[str]
) -> dict[str, tuple[Decimal, Decimal, Decimal | None]]:
    """Per day key, the exact sums of its stored hours (ListCost ``None`` if any hour lacks it)."""
    billed: dict[str, Decimal] = defaultdict(Decimal)
    effective: dict[str, Decimal] = defaultdict(Decimal)
    listed: dict[str, Decimal | None] = {}
    columns = [col(getattr(CostHourly, name)) for name in MONEY_FIELDS]
    with localcontext(SUM_CONTEXT):
        for chunk in _chunks(day_keys):
            stmt = select(col(CostHourly.day_key_sha256), *columns).where(
                col(CostHourly.day_key_sha256).in_(chunk)
            )
            for key, bill, effect, lst in session.execute(stmt):
                billed[key] += bill
                effective[key] += effect
                before = listed.get(key, Decimal(0))
                listed[key] = None if lst is None or before is None else before + lst
    return {key: (billed[key], effective[key], listed[key]) for key in billed}


def roll_up(
    session: Session,
    source: str,
    checked_hourly: dict[str, dict[str, Any]],
    ingestion_id: int,
    prefix: str = "rows",
) -> dict[str, int]:
    """Set the ``cost_daily`` rows of the day keys in ``checked_hourly`` (the batch's hourly rows,
    already written) to the sums of their stored hours; not committed. Returns
    ``{"inserted", "updated"}`` daily rows. ``FieldError`` (``<prefix>[i].<cost>``, i a row of
    that day) when a day's sum does not fit NUMERIC(38,24)."""
    sample: dict[str, dict[str, Any]] = {}
    for values in checked_hourly.values():
        sample.setdefault(values["day_key_sha256"], values)
    daily: dict[str, dict[str, Any]] = {}
    for key, total in _sums(session, sample).items():
        first = sample[key]
        start: datetime = first["ChargePeriodStart"]
        row = {name: first[name] for name in (*DIMENSIONS, "Tags")}
        row.update(ChargePeriodStart=start.date(), _i=first["_i"])
        for name, value in zip(MONEY_FIELDS, total, strict=True):
            try:
                row[name] = None if value is None else check_money(value)
            except MoneyPrecisionError as exc:
                message = f"the day's sum of hours ({value}) does not fit: {exc}"
                field = f"{prefix}[{first['_i']}].{name}"
                raise FieldError(field, message, row=first["_i"]) from exc
        daily[key] = row
    inserted, updated = upsert(session, CostDaily, source, daily, ingestion_id)
    return {"inserted": inserted, "updated": updated}

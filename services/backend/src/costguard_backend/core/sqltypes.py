"""Column types that behave the same on SQLite and PostgreSQL.

- ``Money``: NUMERIC(38,24) on PostgreSQL; on SQLite (no decimal type) a fixed 24-place string, so
  a value is never passed through a float. 24 places because real CUR exports write costs as
  floats with up to 22 decimals (koku's sample) and the reader sums them exactly at that scale.
  Values with more than 24 fractional digits or 14 integer digits raise ``MoneyPrecisionError``
  instead of being rounded. Read back as ``Decimal`` without trailing zeros
  (``Decimal("1.5")``, never ``1.500000000000``).
- ``UTCDateTime``: timezone-aware UTC in, timezone-aware UTC out (SQLite drops the zone).
- ``JSONDoc``: JSONB on PostgreSQL, JSON text elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

SCALE = 24
PRECISION = 38
_QUANTUM = Decimal(1).scaleb(-SCALE)
# The default decimal context keeps 28 digits; NUMERIC(38,24) needs all 38 without rounding.
_CTX = Context(prec=PRECISION + 2)


class MoneyPrecisionError(ValueError):
    """A money value does not fit NUMERIC(38,24) exactly."""


def check_money(value: Decimal) -> Decimal:
    """Return ``value`` at exactly SCALE places; ``MoneyPrecisionError`` if that would round."""
    if not value.is_finite():
        raise MoneyPrecisionError("must be a finite number")
    quantized = (
        value.quantize(_QUANTUM, context=_CTX) if value.adjusted() < PRECISION - SCALE else None
    )
    if quantized is None or quantized != value:
        raise MoneyPrecisionError(
            f"must have at most {SCALE} decimal places and {PRECISION - SCALE} integer digits"
        )
    return quantized


def _plain(value: Decimal) -> Decimal:
    # normalize() strips trailing zeros; format 'f' keeps it out of exponent notation (1E+2).
    return Decimal(format(value.normalize(_CTX), "f"))


class Money(sa.types.TypeDecorator[Decimal]):
    impl = sa.Numeric(PRECISION, SCALE)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.String(PRECISION + 2))
        return dialect.type_descriptor(sa.Numeric(PRECISION, SCALE, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = check_money(Decimal(str(value)) if not isinstance(value, Decimal) else value)
        return format(exact, "f") if dialect.name == "sqlite" else exact

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else _plain(Decimal(str(value)))


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: CostGuard stores UTC-aware timestamps only")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONDoc = sa.JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)

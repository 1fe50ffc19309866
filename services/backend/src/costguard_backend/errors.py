"""Domain errors the API turns into 4xx answers (see ``main.create_app``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa


class FieldError(ValueError):
    """A value the database cannot store as given (answered 422).

    ``field`` names it the way the request body does, e.g. ``rows[3].BilledCost`` or ``id``;
    ``row`` is the batch index when there is one.
    """

    def __init__(self, field: str, message: str, *, row: int | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.row = row

    def detail(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "error": "invalid_field",
            "field": self.field,
            "message": self.message,
        }
        if self.row is not None:
            out["row"] = self.row
        return out


class NotFoundError(LookupError):
    """The entity does not exist (answered 404)."""

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"{entity} {entity_id} not found")
        self.entity = entity
        self.entity_id = entity_id

    def detail(self) -> dict[str, Any]:
        return {"error": "not_found", "entity": self.entity, "id": str(self.entity_id)}


class PreconditionFailed(Exception):
    """``If-Match`` names a version that is no longer the stored one (answered 412, with the
    current version's ``ETag`` header). ``detail()`` says who stored the current version and
    when (both ``None`` while it is the built-in default)."""

    def __init__(
        self, entity: str, *, etag: str, updated_by: str | None, updated_at: datetime | None
    ) -> None:
        super().__init__(f"{entity} changed: now {etag}")
        self.entity = entity
        self.etag = etag
        self.updated_by = updated_by
        self.updated_at = updated_at

    def detail(self) -> dict[str, Any]:
        if self.updated_by is None:
            changed = f"the {self.entity} are not the version sent in If-Match"
        else:
            at = self.updated_at.isoformat() if self.updated_at else "an unknown time"
            changed = f"the {self.entity} were changed by {self.updated_by} at {at}"
        return {
            "error": "precondition_failed",
            "message": f"{changed}; GET them again (ETag {self.etag}) and reapply your change",
            "etag": self.etag,
            "updated_by": self.updated_by,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


def check_lengths(table: sa.Table, values: Mapping[str, Any], prefix: str = "") -> None:
    """Raise ``FieldError`` for a string longer than its column (PostgreSQL would refuse it,
    SQLite would silently keep it: check first so both backends answer the same)."""
    for column in table.columns:
        length = getattr(column.type, "length", None)
        value = values.get(column.name)
        if length and isinstance(value, str) and len(value) > length:
            raise FieldError(f"{prefix}{column.name}", f"longer than {length} characters")

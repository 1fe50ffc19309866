"""The audit log's hash chain: every ``AuditEvent`` carries ``prev_hash`` and
``hash = sha256(prev_hash + canonical JSON of the entry)``, so changing, removing or reordering
any stored entry breaks every hash after it.

Entries are chained when they are flushed: the writer first locks the one-row ``audit_head``
(an UPDATE takes PostgreSQL's row lock and SQLite's write lock), reads the tip, chains its new
entries and moves the tip, all in its own transaction. Concurrent writers therefore append one
after another, and a rolled-back transaction leaves the tip where it was. The table is also
append-only in the database (triggers, see migration 0002).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, select
from sqlmodel import Session, col

from costguard_backend.models import AuditEvent, AuditHead

GENESIS = "0" * 64
HEAD_ID = 1
#: The entry fields the hash covers (``id`` is excluded: it is assigned after chaining).
HASHED_FIELDS = (
    "entity_type",
    "entity_id",
    "actor",
    "action",
    "from_status",
    "to_status",
    "detail",
    "before",
    "after",
    "image_digest",
    "request_id",
    "created_at",
)


def canonical(entry: AuditEvent) -> bytes:
    """Canonical JSON of the hashed fields: sorted keys, no spaces, ISO-8601 UTC timestamps."""
    doc: dict[str, Any] = {}
    for name in HASHED_FIELDS:
        value = getattr(entry, name)
        doc[name] = value.isoformat() if name == "created_at" else value
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()


def entry_hash(prev_hash: str, entry: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode() + canonical(entry)).hexdigest()


def _lock_head(session: Session) -> tuple[int, str]:
    conn = session.connection()
    locked = conn.execute(
        sa.update(AuditHead).where(col(AuditHead.id) == HEAD_ID).values(seq=AuditHead.seq)
    )
    if locked.rowcount == 0:  # first entry (or the table was reset): start at the genesis hash
        conn.execute(sa.insert(AuditHead).values(id=HEAD_ID, seq=0, last_hash=GENESIS))
    row = conn.execute(
        select(col(AuditHead.seq), col(AuditHead.last_hash)).where(col(AuditHead.id) == HEAD_ID)
    ).one()
    return int(row[0]), str(row[1])


@event.listens_for(Session, "before_flush")
def _chain_new_entries(session: Session, _ctx: Any, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditEvent) and obj.hash is None]
    if not new:
        return
    order = {id(obj): n for n, obj in enumerate(session.info.get("audit_order", []))}
    new.sort(key=lambda e: (order.get(id(e), len(order)), e.created_at))
    seq, tip = _lock_head(session)
    for entry in new:
        entry.prev_hash = tip
        entry.hash = tip = entry_hash(tip, entry)
    session.connection().execute(
        sa.update(AuditHead)
        .where(col(AuditHead.id) == HEAD_ID)
        .values(seq=seq + len(new), last_hash=tip)
    )
    session.info.pop("audit_order", None)


def remember_order(session: Session, entry: AuditEvent) -> None:
    """Keep the order in which entries were added (``session.new`` is unordered)."""
    session.info.setdefault("audit_order", []).append(entry)


@dataclass(frozen=True)
class ChainReport:
    """``ok`` when every entry links to the one before and its hash matches its content;
    otherwise ``first_bad_id`` and ``reason`` name the first entry that does not."""

    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_bad_id": self.first_bad_id,
            "reason": self.reason,
        }


def iter_entries(session: Session, batch: int = 500) -> Iterator[AuditEvent]:
    """Every audit event in id order, read in batches (the log can be long)."""
    last = 0
    while True:
        rows = list(
            session.scalars(
                select(AuditEvent)
                .where(col(AuditEvent.id) > last)
                .order_by(col(AuditEvent.id))
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id or last


def verify_chain(session: Session) -> ChainReport:
    """Walk the log oldest first and recompute every hash (see ``ChainReport``)."""
    tip, n = GENESIS, 0
    for n, entry in enumerate(iter_entries(session), start=1):
        if entry.prev_hash != tip:
            return ChainReport(False, n, entry.id, "prev_hash does not match the entry before")
        if entry.hash != entry_hash(tip, entry):
            return ChainReport(False, n, entry.id, "hash does not match the entry's content")
        tip = entry.hash
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    if head is not None and head.last_hash != tip:
        return ChainReport(False, n, None, "entries after the last stored one were removed")
    return ChainReport(True, n)


def export_line(entry: AuditEvent) -> str:
    """One JSON line: every column of the entry, timestamps in ISO-8601 UTC."""
    doc = entry.model_dump(mode="json")
    return json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n"

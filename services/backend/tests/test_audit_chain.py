"""The audit log is hash-chained, append-only in the database, and exported as JSON lines."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from costguard_backend.audit import GENESIS, entry_hash, verify_chain
from costguard_backend.models import AuditEvent
from sqlmodel import Session


def _export(client, h) -> list[dict]:
    resp = client.get("/api/v1/audit-events/export", headers=h.auth("viewer"))
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in resp.text.splitlines()]


def test_every_entry_links_to_the_one_before(client, h):
    action = h.new_action(client)
    assert client.post(
        f"/api/v1/actions/{action['id']}/approve", headers=h.auth("approver")
    ).is_success
    lines = _export(client, h)
    assert len(lines) >= 4  # anomaly create, proposed, pending_approval, approved
    prev = GENESIS
    for line in lines:
        assert line["prev_hash"] == prev
        assert len(line["hash"]) == 64 and line["image_digest"] == "sha256:test"
        prev = line["hash"]
    assert client.get("/api/v1/audit-events/verify", headers=h.auth("viewer")).json() == {
        "ok": True,
        "checked": len(lines),
        "first_bad_id": None,
        "reason": None,
    }


def test_update_is_refused_by_the_database(client, h, engine):
    h.new_action(client)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_event SET actor = 'mallory'"))


def test_tampering_is_detected(client, h, engine):
    h.new_action(client)
    h.new_action(client, "anom-2")
    with Session(engine) as session:
        assert verify_chain(session).ok
    # An attacker with database access drops the guard and rewrites one entry.
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"))
        else:
            conn.execute(sa.text("DROP TRIGGER audit_event_append_only"))
        third = conn.execute(sa.text("SELECT id FROM audit_event ORDER BY id LIMIT 1 OFFSET 2"))
        victim = third.scalar_one()
        conn.execute(
            sa.text("UPDATE audit_event SET actor = 'mallory' WHERE id = :id"), {"id": victim}
        )
    try:
        report = client.get("/api/v1/audit-events/verify", headers=h.auth("viewer")).json()
        assert report["ok"] is False
        assert report["first_bad_id"] == victim
        assert report["reason"] == "hash does not match the entry's content"
        with engine.begin() as conn:  # deleting the last entry is caught by the stored tip
            conn.execute(
                sa.text("UPDATE audit_event SET actor = 'agent' WHERE id = :id"), {"id": victim}
            )
            last = conn.execute(sa.text("SELECT max(id) FROM audit_event")).scalar_one()
            conn.execute(sa.text("DELETE FROM audit_event WHERE id = :id"), {"id": last})
        with Session(engine) as session:
            report2 = verify_chain(session)
        assert not report2.ok and report2.reason.startswith("entries after")
    finally:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(
                    sa.text("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
                )
            else:
                conn.execute(
                    sa.text(
                        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
                        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
                    )
                )


def test_hash_covers_prev_hash_and_content():
    entry = AuditEvent(entity_type="action", entity_id="1", actor="a", action="approve")
    assert entry_hash(GENESIS, entry) != entry_hash("1" * 64, entry)
    other = AuditEvent(**{**entry.model_dump(), "actor": "b"})
    assert entry_hash(GENESIS, entry) != entry_hash(GENESIS, other)

"""Action lifecycle: proposal, approval/rejection by the caller, 409s, audit trail, and the
optimistic lock under concurrent approvals."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from costguard_backend.models import Action
from costguard_backend.workflow import ALLOWED, TransitionError, transition
from sqlmodel import Session


def _count(engine, table, **where):
    clause = " AND ".join(f"{k} = :{k}" for k in where) or "1=1"
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table} WHERE {clause}"), where).scalar()


def _audit(client, h, action_id):
    resp = client.get(
        "/api/v1/audit-events",
        params={"entity_type": "action", "entity_id": str(action_id)},
        headers=h.auth("viewer"),
    )
    return resp.json()["data"]


def test_create_goes_to_pending_approval_with_audit_and_outbox(client, h, engine):
    action = h.new_action(client)
    assert action["status"] == "pending_approval"
    assert action["version"] == 2
    assert action["estimated_monthly_saving_usd"] == "1234.56"
    trail = _audit(client, h, action["id"])
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in trail] == [
        (None, "proposed", "agent"),
        ("proposed", "pending_approval", "agent"),
    ]
    assert all(e["image_digest"] == "sha256:test" for e in trail)
    assert _count(engine, "outbox", kind="approval_requested", action_id=action["id"]) == 1


def test_action_for_unknown_anomaly_is_422(client, h):
    resp = client.post("/api/v1/actions", json=h.action_body("missing"), headers=h.auth("agent"))
    assert resp.status_code == 422
    assert resp.json()["detail"]["field"] == "anomaly_id"


def test_approver_is_the_caller_not_the_body(client, h, engine):
    action = h.new_action(client)
    resp = client.post(
        f"/api/v1/actions/{action['id']}/approve",
        json={"comment": "go", "approved_by": "mallory"},
        headers={**h.auth("approver"), "X-Request-ID": "req-approve"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "approved" and body["approved_by"] == "approver"
    assert body["approved_at"] and body["version"] == 3
    last = _audit(client, h, action["id"])[-1]
    assert last | {"id": 0, "created_at": ""} == {
        "id": 0,
        "entity_type": "action",
        "entity_id": str(action["id"]),
        "actor": "approver",
        "action": "approve",
        "from_status": "pending_approval",
        "to_status": "approved",
        "detail": {"approvers": ["approver"], "comment": "go"},
        "image_digest": "sha256:test",
        "request_id": "req-approve",
        "created_at": "",
    }
    assert (
        _count(engine, "approval", action_id=action["id"], approver="approver", decision="approved")
        == 1
    )
    assert _count(engine, "outbox", kind="action_approved") == 1


def test_approve_without_body(client, h):
    action = h.new_action(client)
    resp = client.post(f"/api/v1/actions/{action['id']}/approve", headers=h.auth("admin"))
    assert resp.status_code == 200 and resp.json()["approved_by"] == "admin"


def test_reject_records_reason(client, h, engine):
    action = h.new_action(client)
    resp = client.post(
        f"/api/v1/actions/{action['id']}/reject",
        json={"reason": "prod box"},
        headers=h.auth("approver"),
    )
    assert resp.status_code == 200
    body = resp.json()
    assert (body["status"], body["rejected_by"], body["rejection_reason"]) == (
        "rejected",
        "approver",
        "prod box",
    )
    assert _count(engine, "approval", decision="rejected", comment="prod box") == 1
    assert _count(engine, "outbox", kind="action_approved") == 0
    # Rejecting needs a reason.
    other = h.new_action(client, "anom-2")
    assert (
        client.post(
            f"/api/v1/actions/{other['id']}/reject", json={}, headers=h.auth("approver")
        ).status_code
        == 422
    )


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_second_decision_is_409_with_current_state(client, h, engine, first):
    action = h.new_action(client)
    url = f"/api/v1/actions/{action['id']}"
    body = {"reason": "no"} if first == "reject" else {}
    assert client.post(f"{url}/{first}", json=body, headers=h.auth("approver")).status_code == 200
    resp = client.post(f"{url}/approve", json={}, headers=h.auth("approver"))
    assert resp.status_code == 409
    current = "approved" if first == "approve" else "rejected"
    assert resp.json() == {
        "detail": {
            "error": "invalid_transition",
            "current_status": current,
            "requested": "approved",
        }
    }
    assert _count(engine, "approval", action_id=action["id"]) == 1
    assert client.get(url, headers=h.auth("viewer")).json()["version"] == 3


def test_unknown_action_is_404(client, h):
    assert (
        client.post("/api/v1/actions/999/approve", json={}, headers=h.auth("approver")).status_code
        == 404
    )
    assert client.get("/api/v1/actions/999", headers=h.auth("viewer")).status_code == 404


def test_list_actions(client, h):
    a = h.new_action(client, "anom-1")
    b = h.new_action(client, "anom-2")
    client.post(f"/api/v1/actions/{a['id']}/approve", json={}, headers=h.auth("approver"))
    page = client.get("/api/v1/actions", headers=h.auth("viewer")).json()
    assert [x["id"] for x in page["data"]] == [b["id"], a["id"]] and page["count"] == 2
    pending = client.get(
        "/api/v1/actions", params={"status": "pending_approval"}, headers=h.auth("viewer")
    ).json()
    assert [x["id"] for x in pending["data"]] == [b["id"]]
    by_anomaly = client.get(
        "/api/v1/actions", params={"anomaly_id": "anom-1"}, headers=h.auth("viewer")
    ).json()
    assert [x["id"] for x in by_anomaly["data"]] == [a["id"]]


def test_concurrent_approvals_one_wins(client, h, engine):
    action = h.new_action(client)
    barrier = threading.Barrier(4)
    results: list[int] = []

    def approve(role):
        barrier.wait()
        resp = client.post(f"/api/v1/actions/{action['id']}/approve", json={}, headers=h.auth(role))
        results.append(resp.status_code)

    threads = [
        threading.Thread(target=approve, args=(r,))
        for r in ("approver", "admin", "approver", "admin")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200, 409, 409, 409]
    assert _count(engine, "approval", action_id=action["id"]) == 1
    assert _count(engine, "outbox", kind="action_approved", action_id=action["id"]) == 1
    assert _count(engine, "audit_event", entity_id=str(action["id"]), to_status="approved") == 1


def test_stale_version_loses(client, h, engine):
    """Two sessions read the same version; the second writer gets a conflict, not a lost update."""
    action_id = h.new_action(client)["id"]
    with Session(engine) as s1, Session(engine) as s2:
        a1, a2 = s1.get(Action, action_id), s2.get(Action, action_id)
        assert a1.version == a2.version == 2
        common = {"request_id": "t", "image_digest": "test"}
        transition(s1, a1, "approved", actor="alice", values={"approved_by": "alice"}, **common)
        s1.commit()
        with pytest.raises(TransitionError) as err:
            transition(s2, a2, "rejected", actor="bob", values={"rejected_by": "bob"}, **common)
        assert err.value.detail() == {
            "error": "invalid_transition",
            "current_status": "approved",
            "requested": "rejected",
        }
    got = client.get(f"/api/v1/actions/{action_id}", headers=h.auth("viewer")).json()
    assert (got["status"], got["approved_by"], got["rejected_by"]) == ("approved", "alice", None)


def test_state_machine_table():
    assert {s.value: sorted(t.value for t in to) for s, to in ALLOWED.items()} == {
        "proposed": ["pending_approval"],
        "pending_approval": ["approved", "rejected"],
        "approved": ["cancelled", "executing"],
        "executing": ["executed", "failed"],
        "failed": ["rolled_back"],
        "rejected": [],
        "cancelled": [],
        "executed": [],
        "rolled_back": [],
    }

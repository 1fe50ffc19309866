"""Inbound execution reports: HMAC over the raw body, idempotent repeats, 409 on conflicts."""

from __future__ import annotations

import json
import time

import pytest
from costguard_backend.outbox import OutboxWorker
from costguard_core.signing import signed_headers

URL = "/api/v1/archestra/webhook"


def _send(client, h, report, *, secret=None, now=None, raw=None):
    body = raw if raw is not None else json.dumps(report).encode()
    headers = signed_headers(secret or h.WEBHOOK_SECRET, body, now=now)
    return client.post(URL, content=body, headers={"Content-Type": "application/json", **headers})


def _executing(client, h, settings, engine):
    """An action approved and dispatched by the embedded orchestrator (executor answering 202)."""
    action = h.new_action(client)
    client.post(f"/api/v1/actions/{action['id']}/approve", json={}, headers=h.auth("approver"))
    with h.Recorder() as executor:
        settings = settings.model_copy(update={"EXECUTOR_URL": executor.url})
        OutboxWorker(engine, settings).deliver_due()
    assert (
        client.get(f"/api/v1/actions/{action['id']}", headers=h.auth("viewer")).json()["status"]
        == "executing"
    )
    return action["id"]


def _report(action_id, status="executed", **extra):
    return {
        "event": "execution_complete",
        "action_id": action_id,
        "status": status,
        "result": {"operation": "StopInstances", "dry_run": True},
        "executor": "executor-1",
        **extra,
    }


def test_good_signature_completes_and_repeat_is_unchanged(client, h, settings, engine):
    action_id = _executing(client, h, settings, engine)
    resp = _send(client, h, _report(action_id))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"action_id": action_id, "status": "executed", "changed": True}
    got = client.get(f"/api/v1/actions/{action_id}", headers=h.auth("viewer")).json()
    assert got["execution_result"] == {"operation": "StopInstances", "dry_run": True}
    # The identical report replayed (within the window) is accepted and changes nothing.
    again = _send(client, h, _report(action_id))
    assert again.json() == {"action_id": action_id, "status": "executed", "changed": False}
    # A later, conflicting report is refused with the current state.
    conflict = _send(client, h, _report(action_id, status="failed"))
    assert conflict.status_code == 409
    assert conflict.json()["detail"] == {
        "error": "invalid_transition",
        "current_status": "executed",
        "requested": "failed",
    }
    trail = client.get(
        "/api/v1/audit-events", params={"entity_id": str(action_id)}, headers=h.auth("viewer")
    ).json()["data"]
    assert [e["to_status"] for e in trail] == [
        "proposed",
        "pending_approval",
        "approved",
        "executing",
        "executed",
    ]
    assert (trail[3]["actor"], trail[4]["actor"]) == ("orchestrator", "executor-1")


def test_failed_report(client, h, settings, engine):
    action_id = _executing(client, h, settings, engine)
    resp = _send(client, h, _report(action_id, status="failed", result={"error": "denied"}))
    assert resp.json()["status"] == "failed"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("secret", "bad signature"),
        ("stale", "stale timestamp"),
        ("missing", "missing signature headers"),
        ("body", "bad signature"),
    ],
)
def test_bad_signatures_are_401(client, h, settings, engine, tamper, reason):
    action_id = _executing(client, h, settings, engine)
    body = json.dumps(_report(action_id)).encode()
    headers = signed_headers(h.WEBHOOK_SECRET, body)
    if tamper == "secret":
        headers = signed_headers("wrong-secret", body)
    elif tamper == "stale":
        headers = signed_headers(h.WEBHOOK_SECRET, body, now=time.time() - 301)
    elif tamper == "missing":
        headers = {}
    elif tamper == "body":
        body = body.replace(b"executed", b"failed")
    resp = client.post(URL, content=body, headers=headers)
    assert resp.status_code == 401
    assert resp.json()["detail"] == {"error": "invalid_signature", "reason": reason}
    got = client.get(f"/api/v1/actions/{action_id}", headers=h.auth("viewer")).json()
    assert got["status"] == "executing"


def test_signature_covers_raw_bytes(client, h, settings, engine):
    """Whitespace the JSON parser would ignore still belongs to the signed body."""
    action_id = _executing(client, h, settings, engine)
    raw = json.dumps(_report(action_id), indent=2).encode()
    assert _send(client, h, None, raw=raw).status_code == 200


def test_bad_report_is_422_and_unknown_action_404(client, h):
    assert _send(client, h, {"action_id": 1, "status": "done"}).status_code == 422
    assert _send(client, h, None, raw=b"not json").status_code == 422
    assert _send(client, h, _report(12345)).status_code == 404


def test_archestra_path_from_approved(client, h, engine):
    action = h.new_action(client)
    client.post(f"/api/v1/actions/{action['id']}/approve", json={}, headers=h.auth("approver"))
    resp = _send(client, h, _report(action["id"], executor=None))
    assert resp.json() == {"action_id": action["id"], "status": "executed", "changed": True}
    trail = client.get(
        "/api/v1/audit-events", params={"entity_id": str(action["id"])}, headers=h.auth("viewer")
    ).json()["data"]
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in trail[-2:]] == [
        ("approved", "executing", "executor"),
        ("executing", "executed", "executor"),
    ]


def test_report_before_approval_is_409(client, h):
    action = h.new_action(client)
    resp = _send(client, h, _report(action["id"]))
    assert resp.status_code == 409
    assert resp.json()["detail"]["current_status"] == "pending_approval"

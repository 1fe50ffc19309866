"""Outbox delivery against real local HTTP peers playing Archestra and the executor."""

from __future__ import annotations

import time
from datetime import timedelta

import sqlalchemy as sa
from costguard_backend.core.sqltypes import utcnow
from costguard_backend.main import create_app
from costguard_backend.outbox import OutboxWorker
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY


def _outbox(engine, kind):
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT status, attempts, last_error FROM outbox WHERE kind = :k ORDER BY id"),
            {"k": kind},
        ).all()


def _approved(client, h):
    action = h.new_action(client)
    resp = client.post(
        f"/api/v1/actions/{action['id']}/approve", json={}, headers=h.auth("approver")
    )
    assert resp.status_code == 200
    return resp.json()


def test_approval_request_is_logged_and_delivered(client, h, settings, engine, caplog):
    action = h.new_action(client)
    assert _outbox(engine, "approval_requested") == [("pending", 0, None)]
    with caplog.at_level("INFO", logger="costguard_backend.dispatch"):
        assert OutboxWorker(engine, settings).deliver_due() == 1
    note = "logged: SLACK_BOT_TOKEN not set"
    assert _outbox(engine, "approval_requested") == [("delivered", 1, note)]
    assert f"Approval needed (one approver): {action['title']}" in caplog.text


def test_archestra_receives_exact_resume_body(client, h, settings, engine):
    action = _approved(client, h)
    with h.Recorder() as archestra:
        cfg = settings.model_copy(
            update={"ARCHESTRA_API_URL": archestra.url + "/", "ARCHESTRA_API_TOKEN": "arch-token"}
        )
        OutboxWorker(engine, cfg).deliver_due()
    [req] = archestra.requests
    assert req["path"] == "/api/v1/webhooks/workflow/resume"
    assert req["json"] == {
        "event": "action_review",
        "action_id": action["id"],
        "status": "approved",
        "approver": "approver",
    }
    assert req["headers"]["Authorization"] == "Bearer arch-token"
    assert _outbox(engine, "action_approved") == [("delivered", 1, None)]
    # Archestra runs the executor; the action waits in approved for its report.
    got = client.get(f"/api/v1/actions/{action['id']}", headers=h.auth("viewer")).json()
    assert got["status"] == "approved"


def test_embedded_dispatch_posts_action_to_executor(client, h, settings, engine):
    action = _approved(client, h)
    with h.Recorder() as executor:
        cfg = settings.model_copy(update={"EXECUTOR_URL": executor.url, "EXECUTOR_TOKEN": "ex"})
        OutboxWorker(engine, cfg).deliver_due()
    [req] = executor.requests
    assert req["path"] == "/execute"
    assert req["headers"]["Authorization"] == "Bearer ex"
    current = client.get(f"/api/v1/actions/{action['id']}", headers=h.auth("viewer")).json()
    assert current["status"] == "executing"
    assert req["json"] == current
    trail = client.get(
        "/api/v1/audit-events", params={"entity_id": str(action["id"])}, headers=h.auth("viewer")
    ).json()["data"]
    assert (trail[-1]["actor"], trail[-1]["to_status"]) == ("orchestrator", "executing")


def test_failed_delivery_retries_with_backoff_then_succeeds(client, h, settings, engine):
    action = _approved(client, h)
    before = (
        REGISTRY.get_sample_value(
            "costguard_webhook_deliveries_total",
            {"direction": "outbound", "kind": "action_approved", "result": "retry"},
        )
        or 0
    )
    with h.Recorder(statuses=[503, 500]) as executor:
        worker = OutboxWorker(engine, settings.model_copy(update={"EXECUTOR_URL": executor.url}))
        worker.deliver_due()
        [(status, attempts, error)] = _outbox(engine, "action_approved")
        assert (status, attempts) == ("pending", 1) and "503" in error
        # Not due again until the backoff has passed.
        assert worker.deliver_due(now=utcnow() - timedelta(seconds=1)) == 0
        worker.deliver_due(now=utcnow() + timedelta(seconds=60))
        assert _outbox(engine, "action_approved")[0][:2] == ("pending", 2)
        worker.deliver_due(now=utcnow() + timedelta(seconds=120))
    assert _outbox(engine, "action_approved") == [("delivered", 3, None)]
    assert len(executor.requests) == 3
    assert all(r["json"]["id"] == action["id"] for r in executor.requests)
    after = REGISTRY.get_sample_value(
        "costguard_webhook_deliveries_total",
        {"direction": "outbound", "kind": "action_approved", "result": "retry"},
    )
    assert after == before + 2


def test_dead_after_max_attempts_fails_the_action(client, h, settings, engine):
    action = _approved(client, h)
    cfg = settings.model_copy(
        update={"EXECUTOR_URL": "http://127.0.0.1:9", "OUTBOX_MAX_ATTEMPTS": 2}
    )
    worker = OutboxWorker(engine, cfg)
    worker.deliver_due()
    worker.deliver_due(now=utcnow() + timedelta(seconds=60))
    [(status, attempts, error)] = _outbox(engine, "action_approved")
    assert (status, attempts) == ("dead", 2) and "ConnectError" in error
    got = client.get(f"/api/v1/actions/{action['id']}", headers=h.auth("viewer")).json()
    assert got["status"] == "failed"
    assert got["execution_result"]["error"] == "dispatch failed"


def test_worker_thread_dispatches_after_approval(h, settings, engine):
    """The lifespan's worker delivers on its own, woken by the approval."""
    with h.Recorder() as executor:
        cfg = settings.model_copy(
            update={
                "EXECUTOR_URL": executor.url,
                "OUTBOX_WORKER": True,
                "OUTBOX_POLL_INTERVAL_S": 30,
            }
        )
        with TestClient(create_app(cfg)) as client:
            action = _approved(client, h)
            deadline = time.monotonic() + 10
            while not executor.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [r["json"]["id"] for r in executor.requests] == [action["id"]]
            while "costguard_outbox_pending 0.0" not in client.get("/metrics").text:
                assert time.monotonic() < deadline, _outbox(engine, "action_approved")
                time.sleep(0.05)
            assert _outbox(engine, "action_approved") == [("delivered", 1, None)]

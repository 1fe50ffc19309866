"""Outbox contracts: idempotency keys, Archestra A2A, Slack via slack-sdk, the outbox API, and the
inbound webhook's replay guard, rollback state and tool-call audit."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from costguard_backend.main import create_app
from costguard_backend.outbox import OutboxWorker
from costguard_backend.policy import Policy
from costguard_core.signing import signed_headers
from fastapi.testclient import TestClient


class SlackPeer:
    """A local Slack Web API: records ``chat.postMessage`` calls, answers ``{"ok": true}``."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                peer.calls.append(
                    {"path": self.path, "auth": self.headers["Authorization"], "body": raw}
                )
                out = json.dumps({"ok": True, "channel": "C1", "ts": "1.000100"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _approve(client, h):
    action = h.new_action(client)
    client.post(f"/api/v1/actions/{action['id']}/approve", headers=h.auth("approver"))
    return action


def test_a2a_contract_posts_to_agent_with_bearer_and_key(client, h, settings, engine):
    action = _approve(client, h)
    with h.Recorder() as archestra:
        cfg = settings.model_copy(
            update={
                "ARCHESTRA_API_URL": archestra.url,
                "ARCHESTRA_MODE": "a2a",
                "ARCHESTRA_AGENT_ID": "agent-42",
                "ARCHESTRA_API_TOKEN": "arch-token",
            }
        )
        OutboxWorker(engine, cfg).deliver_due()
    sent = [r for r in archestra.requests if r["path"].startswith("/v1/a2a/")]
    assert [r["path"] for r in sent] == ["/v1/a2a/agent-42"]
    assert sent[0]["headers"]["Authorization"] == "Bearer arch-token"
    assert sent[0]["headers"]["Idempotency-Key"] == f"action-approved-{action['id']}"
    body = sent[0]["json"]
    assert (body["event"], body["action_id"], body["approver"]) == (
        "action_review",
        action["id"],
        "approver",
    )
    assert body["action"]["id"] == action["id"] and body["action"]["status"] == "approved"


def test_slack_messages_go_through_webclient_once_per_key(client, h, settings, engine):
    peer = SlackPeer()
    try:
        action = h.new_action(client)
        cfg = settings.model_copy(
            update={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_BASE_URL": peer.url}
        )
        worker = OutboxWorker(engine, cfg)
        assert worker.deliver_due() == 1
        assert worker.deliver_due() == 0  # delivered rows are not sent again
    finally:
        peer.close()
    assert len(peer.calls) == 1
    call = peer.calls[0]
    assert call["path"] == "/api/chat.postMessage" and call["auth"] == "Bearer xoxb-test"
    sent = json.loads(call["body"])
    assert sent["metadata"]["event_payload"]["idempotency_key"] == (
        f"approval-requested-{action['id']}"
    )
    assert action["title"] in sent["text"]
    listed = client.get(
        "/api/v1/outbox", params={"status": "delivered"}, headers=h.auth("viewer")
    ).json()
    assert [(r["kind"], r["idempotency_key"], r["attempts"]) for r in listed["data"]] == [
        ("approval_requested", f"approval-requested-{action['id']}", 1)
    ]


def test_slack_error_is_retried_then_dead_and_visible(client, h, settings, engine):
    h.new_action(client)
    cfg = settings.model_copy(
        update={
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_BASE_URL": "http://127.0.0.1:9/api/",
            "OUTBOX_MAX_ATTEMPTS": 1,
        }
    )
    OutboxWorker(engine, cfg).deliver_due()
    dead = client.get("/api/v1/outbox", params={"status": "dead"}, headers=h.auth("viewer"))
    rows = dead.json()["data"]
    assert len(rows) == 1 and "Slack unreachable" in rows[0]["last_error"]
    assert client.get("/api/v1/outbox?status=bogus", headers=h.auth("viewer")).status_code == 422


def _send(client, h, report, now=None):
    body = json.dumps(report).encode()
    headers = signed_headers(h.WEBHOOK_SECRET, body, now=now)
    return client.post(
        "/api/v1/archestra/webhook",
        content=body,
        headers={"Content-Type": "application/json", **headers},
    )


def test_rolled_back_report_stores_tool_calls_and_refuses_replays(client, h):
    action = _approve(client, h)
    calls = [
        {
            "tool": "stop_instance",
            "idempotency_key": f"action-{action['id']}-phase1-i-1",
            "ok": True,
            "before": {"state": "running"},
            "after": {"state": "stopped"},
        },
        {"tool": "start_instance", "ok": True, "undo_of": 0, "after": {"state": "running"}},
    ]
    report = {
        "action_id": action["id"],
        "status": "failed",
        "executor": "executor-agent",
        "result": {"rolled_back": True, "tool_calls": calls, "image_digest": "sha256:exec"},
    }
    body = json.dumps(report).encode()
    headers = {"Content-Type": "application/json", **signed_headers(h.WEBHOOK_SECRET, body)}
    first = client.post("/api/v1/archestra/webhook", content=body, headers=headers)
    assert first.json() == {"action_id": action["id"], "status": "rolled_back", "changed": True}
    # The identical signed delivery again: nothing changes.
    again = client.post("/api/v1/archestra/webhook", content=body, headers=headers)
    assert again.json()["changed"] is False
    # A different payload for the finished action is refused.
    other = _send(client, h, {**report, "status": "executed", "result": {}})
    assert other.status_code == 409
    # Forged: 401, nothing changes.
    forged = client.post(
        "/api/v1/archestra/webhook",
        content=body,
        headers={**headers, "X-CostGuard-Signature": "sha256=" + "0" * 64},
    )
    assert forged.status_code == 401
    trail = client.get(
        "/api/v1/audit-events", params={"entity_id": str(action["id"])}, headers=h.auth("viewer")
    ).json()["data"]
    steps = [(e["action"], e["to_status"]) for e in trail][-5:]
    assert steps == [
        ("dispatch", "executing"),
        ("tool_call", None),
        ("tool_call", None),
        ("fail", "failed"),
        ("roll_back", "rolled_back"),
    ]
    tool = next(e for e in trail if e["action"] == "tool_call")
    assert tool["image_digest"] == "sha256:exec"
    exported = client.get("/api/v1/audit-events/export", headers=h.auth("viewer")).text
    first_call = next(json.loads(line) for line in exported.splitlines() if '"tool_call"' in line)
    assert first_call["before"] == {"state": "running"}
    assert first_call["after"] == {"state": "stopped"}


def test_disallowed_executor_image_is_refused(client, h, settings):
    action = _approve(client, h)
    app = create_app(settings)
    app.state.policy = Policy(allowed_image_digests=["sha256:good"])
    with TestClient(app) as strict:
        resp = _send(
            strict,
            h,
            {
                "action_id": action["id"],
                "status": "executed",
                "result": {"image_digest": "sha256:evil"},
            },
        )
    assert resp.status_code == 409 and resp.json()["detail"]["rule"] == "allowed_image_digests"
    got = client.get(f"/api/v1/actions/{action['id']}", headers=h.auth("viewer")).json()
    assert got["status"] == "approved"

"""GET /api/v1/policy (what the executor checks its image against), the digest rule on
reports (a report claiming a change from an unlisted image is refused; a failure that touched
nothing is accepted from any image), and the costs filter the executor's spend check uses."""

from __future__ import annotations

import json

from costguard_backend.main import create_app
from costguard_backend.outbox import OutboxWorker
from costguard_core.signing import signed_headers
from fastapi.testclient import TestClient

POLICY = "allowed_image_digests: ['sha256:good']\nmax_actions_per_day: 5\n"


def _client(settings, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return TestClient(create_app(settings.model_copy(update={"POLICY_FILE": str(path)})))


def _executing(client, h, settings, engine) -> int:
    action = h.new_action(client)
    client.post(f"/api/v1/actions/{action['id']}/approve", json={}, headers=h.auth("approver"))
    with h.Recorder() as executor:
        OutboxWorker(
            engine, settings.model_copy(update={"EXECUTOR_URL": executor.url})
        ).deliver_due()
    return action["id"]


def _send(client, h, action_id, status, result):
    body = json.dumps(
        {"event": "execution_complete", "action_id": action_id, "status": status, "result": result}
    ).encode()
    headers = {"Content-Type": "application/json", **signed_headers(h.WEBHOOK_SECRET, body)}
    return client.post("/api/v1/archestra/webhook", content=body, headers=headers)


def test_policy_is_published_to_every_role(settings, tmp_path, h):
    with _client(settings, tmp_path) as client:
        assert client.get("/api/v1/policy").status_code == 401
        got = client.get("/api/v1/policy", headers=h.auth("agent")).json()
        assert got["allowed_image_digests"] == ["sha256:good"]
        assert got["max_actions_per_day"] == 5
        assert got["protected_tags"] == {"costguard:protect": "true"}


def test_digest_rule_applies_to_reports_that_claim_a_change(settings, engine, tmp_path, h):
    with _client(settings, tmp_path) as client:
        first = _executing(client, h, settings, engine)
        bad = {"image_digest": "sha256:bad", "tool_calls": [{"tool": "x", "dry_run": False}]}
        resp = _send(client, h, first, "executed", bad)
        assert resp.status_code == 409
        assert resp.json()["detail"]["rule"] == "allowed_image_digests"
        resp = _send(client, h, first, "failed", bad)  # claims a real call: refused too
        assert resp.status_code == 409
        refused = {"image_digest": "sha256:bad", "tool_calls": [], "error": "not allowed"}
        resp = _send(client, h, first, "failed", refused)
        assert (resp.status_code, resp.json()["status"]) == (200, "failed")
        second = _executing(client, h, settings, engine)
        good = {"image_digest": "sha256:good", "tool_calls": [{"tool": "x", "dry_run": False}]}
        assert _send(client, h, second, "executed", good).json()["status"] == "executed"


def test_costs_filter_by_resource(client, h):
    rows = [h.cost_row(ResourceId="i-1"), h.cost_row(ResourceId="i-2")]
    client.post(
        "/api/v1/costs/ingest", json={"source": "t", "rows": rows}, headers=h.auth("agent")
    ).raise_for_status()
    page = client.get("/api/v1/costs", params={"resource_id": "i-2"}, headers=h.auth("viewer"))
    assert [r["ResourceId"] for r in page.json()["data"]] == ["i-2"]
    assert page.json()["count"] == 1

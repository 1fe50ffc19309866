"""Feedback on anomalies: stored with the caller as actor, audited in the same transaction,
roles, 404 for unknown anomalies, and the joined list the detective reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def _post(client, h, anomaly_id="anom-1", role="approver", **body):
    body = {"kind": "planned_activity", "comment": "quarter-end batch"} | body
    return client.post(f"/api/v1/anomalies/{anomaly_id}/feedback", json=body, headers=h.auth(role))


def test_feedback_stored_audited_and_listed(client, h):
    assert client.post(
        "/api/v1/anomalies", json=h.anomaly_body(), headers=h.auth("agent")
    ).is_success
    resp = _post(client, h)
    assert resp.status_code == 201, resp.text
    fb = resp.json()
    assert (fb["anomaly_id"], fb["kind"], fb["actor"]) == ("anom-1", "planned_activity", "approver")
    assert fb["comment"] == "quarter-end batch" and fb["created_at"].endswith(("Z", "+00:00"))
    assert _post(client, h, role="agent", kind="accurate", comment=None).status_code == 201
    listed = client.get("/api/v1/anomalies/anom-1/feedback", headers=h.auth("viewer")).json()
    assert [(f["kind"], f["actor"]) for f in listed] == [
        ("planned_activity", "approver"), ("accurate", "agent"),
    ]  # fmt: skip
    audit = client.get(
        "/api/v1/audit-events", params={"entity_id": "anom-1"}, headers=h.auth("admin")
    )
    events = [e for e in audit.json()["data"] if e["action"] == "feedback"]
    assert sorted((e["actor"], e["detail"]["kind"]) for e in events) == [
        ("agent", "accurate"), ("approver", "planned_activity"),
    ]  # fmt: skip

    items = client.get("/api/v1/feedback", headers=h.auth("viewer")).json()
    assert len(items) == 2
    first = items[0]
    assert first["scope"] == {"ProviderName": "AWS"} and first["start"] == "2025-03-10"
    assert (first["expected_cost"], first["actual_cost"], first["impact_usd"]) == (100, 640, 540)
    assert first["root_causes"][0]["ResourceId"] == "i-0abc"
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert (
        client.get("/api/v1/feedback", params={"since": future}, headers=h.auth("viewer")).json()
        == []
    )
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert (
        len(client.get("/api/v1/feedback", params={"since": past}, headers=h.auth("agent")).json())
        == 2
    )


def test_feedback_roles_and_errors(client, h):
    assert client.post(
        "/api/v1/anomalies", json=h.anomaly_body(), headers=h.auth("agent")
    ).is_success
    assert _post(client, h, role="viewer").status_code == 403
    assert _post(client, h, role="admin").status_code == 201
    missing = _post(client, h, anomaly_id="nope")
    assert missing.status_code == 404 and missing.json()["detail"]["entity"] == "anomaly"
    assert (
        client.get("/api/v1/anomalies/nope/feedback", headers=h.auth("viewer")).status_code == 404
    )
    assert _post(client, h, kind="maybe").status_code == 422
    long = _post(client, h, comment="x" * 2001)
    assert long.status_code == 422 and long.json()["detail"]["field"] == "comment"
    assert (
        len(client.get("/api/v1/anomalies/anom-1/feedback", headers=h.auth("viewer")).json()) == 1
    )
    assert client.get("/api/v1/feedback").status_code == 401


def test_client_methods_round_trip(client, h):
    from costguard_core.client import BackendError

    agent = h.api_client(client, "dev-agent-key")
    admin = h.api_client(client, "dev-admin-key")
    assert client.post(
        "/api/v1/anomalies", json=h.anomaly_body(), headers=h.auth("agent")
    ).is_success
    fb = agent.submit_feedback("anom-1", "not_an_issue", "test traffic")
    assert (fb.kind, fb.actor, fb.comment) == ("not_an_issue", "agent", "test traffic")
    items = agent.list_feedback(since=fb.created_at)
    assert [(i.anomaly_id, i.kind, i.impact_usd) for i in items] == [
        ("anom-1", "not_an_issue", 540)
    ]
    assert agent.get_monitors().updated_by is None
    stored = admin.put_monitors({"monitors": [{"dimension": "total"}]})
    assert stored.updated_by == "admin" and agent.get_monitors().document == stored.document
    try:
        agent.submit_feedback("nope", "accurate")
    except BackendError as exc:
        assert exc.status_code == 404
    else:
        raise AssertionError("unknown anomaly accepted")

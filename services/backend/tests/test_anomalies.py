"""Anomalies: idempotent create, revision by a later pass, filters, get."""

from __future__ import annotations


def _post(client, h, body, role="agent"):
    return client.post("/api/v1/anomalies", json=body, headers=h.auth(role))


def _list(client, h, **params):
    resp = client.get("/api/v1/anomalies", params=params, headers=h.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_create_then_repeat_is_200_unchanged(client, h):
    first = _post(client, h, h.anomaly_body("a1"))
    assert first.status_code == 201
    body = first.json()
    assert body["status"] == "open"
    assert body["root_causes"][0]["ResourceId"] == "i-0abc"
    changed = h.anomaly_body("a1", impact_usd=1.0, severity="low")
    again = _post(client, h, changed)
    assert again.status_code == 200
    assert again.json() == body
    assert client.get("/api/v1/anomalies/a1", headers=h.auth("viewer")).json() == body


def test_a_later_end_revises_the_figures_and_is_audited(client, h):
    """A later pass sees the incident last longer: its end, figures and root causes replace the
    stored ones (session 11); status, start, scope and detected_at stay; a post ending no later
    changes nothing."""
    first = _post(client, h, h.anomaly_body("grow", detected_at="2025-03-10T04:00:00Z")).json()
    causes = [
        {"ProviderName": "AWS", "ServiceName": "Amazon EC2", "ResourceId": "i-0abc",
         "impact_usd": 1300.0, "share": 0.81},
        {"ProviderName": "AWS", "ServiceName": "Amazon S3", "ResourceId": "bucket-1",
         "impact_usd": 300.0, "share": 0.19},
    ]  # fmt: skip
    later = h.anomaly_body(
        "grow",
        end="2025-03-15",
        impact_usd=1600.0,
        severity="critical",
        confidence=0.97,
        scope={"ProviderName": "GCP"},
        start="2025-03-09",
        detected_at="2025-03-14T04:00:00Z",
        root_causes=causes,
    )
    resp = _post(client, h, later)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert (got["end"], got["impact_usd"], got["severity"], got["confidence"]) == (
        "2025-03-15",
        1600.0,
        "critical",
        0.97,
    )
    assert [rc["ResourceId"] for rc in got["root_causes"]] == ["i-0abc", "bucket-1"]
    for kept in ("start", "scope", "status", "created_at", "detected_at"):
        assert got[kept] == first[kept], kept
    assert client.get("/api/v1/anomalies/grow", headers=h.auth("viewer")).json() == got
    trail = client.get(
        "/api/v1/audit-events",
        params={"entity_type": "anomaly", "entity_id": "grow"},
        headers=h.auth("viewer"),
    ).json()["data"]
    assert [e["action"] for e in trail] == ["create", "revise"]
    assert trail[-1]["detail"]["end"] == ["2025-03-12", "2025-03-15"]
    assert trail[-1]["detail"]["impact_usd"] == ["540.0", "1600.0"]
    # An older pass (earlier end) posting again changes nothing and audits nothing.
    assert _post(client, h, h.anomaly_body("grow")).json() == got
    again = client.get(
        "/api/v1/audit-events",
        params={"entity_type": "anomaly", "entity_id": "grow"},
        headers=h.auth("viewer"),
    ).json()["data"]
    assert len(again) == 2


def test_get_unknown_is_404(client, h):
    resp = client.get("/api/v1/anomalies/nope", headers=h.auth("viewer"))
    assert resp.status_code == 404
    assert resp.json()["detail"]["error"] == "not_found"


def test_root_causes_keep_order(client, h):
    causes = [
        {"ProviderName": "GCP", "ServiceName": f"svc-{i}", "impact_usd": 10.0 - i, "share": 0.1}
        for i in range(5)
    ]
    _post(client, h, h.anomaly_body("ordered", root_causes=causes))
    got = client.get("/api/v1/anomalies/ordered", headers=h.auth("viewer")).json()
    assert [rc["ServiceName"] for rc in got["root_causes"]] == [f"svc-{i}" for i in range(5)]


def test_list_filters(client, h):
    ec2 = [{"ProviderName": "AWS", "ServiceName": "Amazon EC2", "impact_usd": 5.0, "share": 1.0}]
    bq = [{"ProviderName": "GCP", "ServiceName": "BigQuery", "impact_usd": 5.0, "share": 1.0}]
    _post(
        client,
        h,
        h.anomaly_body("a", start="2025-01-05", severity="low", impact_usd=50.0, root_causes=ec2),
    )
    _post(
        client,
        h,
        h.anomaly_body("b", start="2025-02-05", severity="high", impact_usd=900.0, root_causes=bq),
    )
    _post(
        client,
        h,
        h.anomaly_body(
            "c",
            start="2025-03-05",
            severity="high",
            impact_usd=300.0,
            root_causes=[],
            scope={"ServiceName": "Amazon EC2"},
        ),
    )

    def ids(**params):
        return [a["id"] for a in _list(client, h, **params)["data"]]

    assert ids() == ["c", "b", "a"]  # newest start first
    assert ids(severity="high") == ["c", "b"]
    assert ids(start_from="2025-02-01") == ["c", "b"]
    assert ids(start_to="2025-02-05") == ["b", "a"]
    assert ids(service="Amazon EC2") == ["c", "a"]  # scope or root cause
    assert ids(min_impact=300) == ["c", "b"]
    assert ids(status="open") == ["c", "b", "a"]
    assert ids(status="resolved") == []
    page = _list(client, h, limit=1, offset=1)
    assert page["count"] == 3 and [a["id"] for a in page["data"]] == ["b"]
    assert (
        client.get("/api/v1/anomalies", params={"limit": 501}, headers=h.auth("viewer")).status_code
        == 422
    )


def test_invalid_anomaly_is_422(client, h):
    resp = _post(client, h, h.anomaly_body("x", confidence=2))
    assert resp.status_code == 422
    resp = _post(client, h, h.anomaly_body("x" * 201))
    assert resp.status_code == 422 and resp.json()["detail"]["field"] == "id"

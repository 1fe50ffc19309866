"""``/api/v1/monitors``: built-in default until stored, admin-only replace, validation naming
the field with nothing stored, audit with before/after."""

from __future__ import annotations

import json

DOC = {
    "monitors": [
        {"dimension": "total"},
        {"dimension": "ServiceName", "min_impact_usd": 50, "combine": "or"},
        {"dimension": "Tags.team", "severity_tiers_usd": {"medium": 200, "high": 2000}},
    ],
    "leaf_monitors": False,
}


def test_default_then_put_then_get(client, h):
    first = client.get("/api/v1/monitors", headers=h.auth("viewer"))
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["updated_by"] is None and body["updated_at"] is None
    assert [m["dimension"] for m in body["document"]["monitors"]] == [
        "total", "ProviderName", "ServiceName", "SubAccountId",
    ]  # fmt: skip
    put = client.put("/api/v1/monitors", json=DOC, headers=h.auth("admin"))
    assert put.status_code == 200, put.text
    assert put.json()["document"] == DOC and put.json()["updated_by"] == "admin"
    got = client.get("/api/v1/monitors", headers=h.auth("agent")).json()
    assert got["document"] == DOC and got["updated_at"] == put.json()["updated_at"]
    second = {"monitors": [{"dimension": "RegionId"}]}
    assert client.put("/api/v1/monitors", json=second, headers=h.auth("admin")).status_code == 200
    assert client.get("/api/v1/monitors", headers=h.auth("viewer")).json()["document"] == second
    export = client.get("/api/v1/audit-events/export", headers=h.auth("admin")).text
    entries = [json.loads(line) for line in export.splitlines()]
    changes = [
        (e["actor"], e["action"], e["before"], e["after"])
        for e in entries
        if e["entity_type"] == "monitor_config"
    ]
    assert changes == [("admin", "update", None, DOC), ("admin", "update", DOC, second)]


def test_put_admin_only_and_validated(client, h):
    for role in ("viewer", "approver", "agent"):
        assert client.put("/api/v1/monitors", json=DOC, headers=h.auth(role)).status_code == 403
    bad = {"monitors": [{"dimension": "total"}, {"dimension": "ServiceName", "min_impact_usd": -1}]}
    resp = client.put("/api/v1/monitors", json=bad, headers=h.auth("admin"))
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"]["field"] == "monitors[1].min_impact_usd"
    unknown = client.put("/api/v1/monitors", json={"monitors": [{"dimension": "Colour"}]},
                         headers=h.auth("admin"))  # fmt: skip
    assert unknown.status_code == 422 and "Colour" in unknown.json()["detail"]["message"]
    assert client.put("/api/v1/monitors", json=[1], headers=h.auth("admin")).status_code == 422
    # Nothing was stored by the refused documents.
    assert client.get("/api/v1/monitors", headers=h.auth("viewer")).json()["updated_by"] is None

"""Health, metrics, authentication and role checks, settings validation."""

from __future__ import annotations

import pytest
from costguard_backend.core.config import DEV_API_KEYS, Settings, parse_api_keys
from prometheus_client import REGISTRY
from pydantic import ValidationError


def test_healthz_needs_no_key(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json() == {"status": "ok", "database": "ok"}


def test_metrics_exposed_and_counting(client, h):
    before = REGISTRY.get_sample_value("costguard_ingested_rows_total", {"result": "inserted"}) or 0
    body = {"source": "m", "rows": [h.cost_row(), h.cost_row(ServiceName="Amazon S3")]}
    assert (
        client.post("/api/v1/costs/ingest", json=body, headers=h.auth("agent")).status_code == 200
    )
    text = client.get("/metrics").text
    for name in (
        "costguard_ingested_rows_total",
        "costguard_outbox_pending",
        "costguard_http_request_duration_seconds_bucket",
        "costguard_action_transitions_total",
    ):
        assert name in text
    assert 'route="/api/v1/costs/ingest"' in text
    after = REGISTRY.get_sample_value("costguard_ingested_rows_total", {"result": "inserted"})
    assert after == before + 2


def test_missing_and_unknown_keys_are_401(client):
    assert client.get("/api/v1/anomalies").status_code == 401
    resp = client.get("/api/v1/anomalies", headers={"Authorization": "Bearer nope"})
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/v1/anomalies", {"viewer", "approver", "agent", "admin"}),
        ("POST", "/api/v1/costs/ingest", {"agent", "admin"}),
        ("POST", "/api/v1/anomalies", {"agent", "admin"}),
        ("POST", "/api/v1/actions", {"agent", "admin"}),
        ("POST", "/api/v1/actions/1/approve", {"approver", "admin"}),
        ("POST", "/api/v1/actions/1/reject", {"approver", "admin"}),
    ],
)
def test_roles(client, h, method, path, allowed):
    for role in ("viewer", "approver", "agent", "admin"):
        resp = client.request(method, path, headers=h.auth(role), json={})
        if role in allowed:
            assert resp.status_code != 403, (role, resp.text)
        else:
            assert resp.status_code == 403, (role, resp.text)
            assert resp.json()["detail"]["error"] == "forbidden"


def test_request_id_is_echoed(client):
    resp = client.get("/healthz", headers={"X-Request-ID": "req-42"})
    assert resp.headers["X-Request-ID"] == "req-42"
    assert client.get("/healthz").headers["X-Request-ID"]


def test_local_settings_fall_back_to_dev_keys(monkeypatch):
    monkeypatch.delenv("COSTGUARD_API_KEYS", raising=False)
    monkeypatch.delenv("ARCHESTRA_WEBHOOK_SECRET", raising=False)
    s = Settings(ENVIRONMENT="local")
    assert s.api_keys["dev-approver-key"].role == "approver"
    assert s.ARCHESTRA_WEBHOOK_SECRET == "dev-webhook-secret"


@pytest.mark.parametrize(
    ("keys", "secret", "message"),
    [
        ("", "prod-secret", "COSTGUARD_API_KEYS must be set"),
        (DEV_API_KEYS, "prod-secret", "dev key"),
        ("ops:admin:s3cr3t", "", "ARCHESTRA_WEBHOOK_SECRET must be set"),
        ("ops:admin:s3cr3t", "dev-webhook-secret", "dev secret"),
    ],
)
def test_production_refuses_dev_secrets(monkeypatch, keys, secret, message):
    monkeypatch.delenv("COSTGUARD_API_KEYS", raising=False)
    monkeypatch.delenv("ARCHESTRA_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValidationError, match=message):
        Settings(ENVIRONMENT="production", COSTGUARD_API_KEYS=keys, ARCHESTRA_WEBHOOK_SECRET=secret)


def test_production_accepts_real_keys():
    s = Settings(
        ENVIRONMENT="production",
        COSTGUARD_API_KEYS="ops:admin:s3cr3t, bot:agent:t0k",
        ARCHESTRA_WEBHOOK_SECRET="whsec",
    )
    assert {p.name for p in s.api_keys.values()} == {"ops", "bot"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("a:admin", "entry 1: expected"),
        ("a:admin:x,b:root:y", "entry 2: role 'root'"),
        ("a:admin:x,b:viewer:x", "entry 2: secret repeats"),
    ],
)
def test_api_key_parse_errors(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_api_keys(raw)

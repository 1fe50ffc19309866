"""Policy file: validated at start-up, each rule blocks with its name (audited), two approvers."""

from __future__ import annotations

from pathlib import Path

import pytest
from costguard_backend.main import create_app
from costguard_backend.policy import PolicyFileError, load_policy
from fastapi.testclient import TestClient

POLICY = """
protected_tags: {"costguard:protect": "true"}
allowed_actions:
  aws:
    production: [notify_owner]
    "*": [stop_instance, rightsize_instance]
max_actions_per_day: 2
max_monthly_spend: {USD: "500"}
high_risk_approvers: 2
"""


@pytest.fixture
def policy_client(settings, tmp_path: Path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    with TestClient(create_app(settings.model_copy(update={"POLICY_FILE": str(path)}))) as c:
        yield c


def _ingest(client, h, resource_id, cost, tags, currency="USD"):
    rows = [
        h.cost_row(
            ChargePeriodStart=day,
            ResourceId=resource_id,
            Tags=tags,
            BilledCost=cost,
            EffectiveCost=cost,
            BillingCurrency=currency,
        )
        for day in h.days("2025-03-01", 3)
    ]
    resp = client.post(
        "/api/v1/costs/ingest", json={"source": "t", "rows": rows}, headers=h.auth("agent")
    )
    assert resp.status_code == 200, resp.text


def _propose(client, h, resource_id, **overrides):
    client.post("/api/v1/anomalies", json=h.anomaly_body(), headers=h.auth("agent"))
    body = h.action_body(
        resource_id=resource_id,
        parameters={"resource_id": resource_id, "region": "us-east-1"},
        **overrides,
    )
    return client.post("/api/v1/actions", json=body, headers=h.auth("agent"))


def _blocks(client, h):
    events = client.get(
        "/api/v1/audit-events", params={"entity_type": "anomaly"}, headers=h.auth("viewer")
    ).json()["data"]
    return [e["detail"]["rule"] for e in events if e["action"] == "policy_block"]


@pytest.mark.parametrize(
    ("tags", "cost", "currency", "rule"),
    [
        ({"costguard:protect": "true"}, "1", "USD", "protected_tags"),
        ({"environment": "production"}, "1", "USD", "allowed_actions"),
        ({}, "200.000001", "USD", "max_monthly_spend"),  # 3 days x 200.000001 > 500
        ({}, "1", "EUR", "max_monthly_spend"),  # no EUR cap: refused, not converted
    ],
)
def test_each_rule_blocks_with_its_name(policy_client, h, tags, cost, currency, rule):
    _ingest(policy_client, h, "i-0abc", cost, tags, currency)
    resp = _propose(policy_client, h, "i-0abc")
    assert resp.status_code == 422, resp.text
    assert resp.json()["detail"]["error"] == "policy_violation"
    assert resp.json()["detail"]["rule"] == rule
    assert _blocks(policy_client, h) == [rule]
    listed = policy_client.get("/api/v1/actions", headers=h.auth("viewer")).json()
    assert listed["count"] == 0


def test_within_policy_is_accepted(policy_client, h):
    _ingest(policy_client, h, "i-0abc", "166.666666", {"environment": "staging"})
    assert _propose(policy_client, h, "i-0abc").status_code == 201


def test_unknown_provider_is_refused(policy_client, h):
    resp = _propose(policy_client, h, "x", provider="gcp", action_type="cancel_bigquery_job")
    assert resp.json()["detail"]["rule"] == "allowed_actions"


def test_high_risk_needs_two_distinct_approvers(policy_client, h):
    action = _propose(policy_client, h, "i-0abc", risk="high").json()
    url = f"/api/v1/actions/{action['id']}/approve"
    first = policy_client.post(url, headers=h.auth("approver"))
    assert first.status_code == 200 and first.json()["status"] == "pending_approval"
    again = policy_client.post(url, headers=h.auth("approver"))
    assert again.status_code == 409
    assert again.json()["detail"]["error"] == "duplicate_approver"
    second = policy_client.post(url, headers=h.auth("admin"))
    assert second.status_code == 200 and second.json()["status"] == "approved"
    trail = policy_client.get(
        "/api/v1/audit-events", params={"entity_id": str(action["id"])}, headers=h.auth("viewer")
    ).json()["data"]
    assert [(e["action"], e["actor"]) for e in trail][-2:] == [
        ("approve_partial", "approver"),
        ("approve", "admin"),
    ]


def test_daily_limit_blocks_the_third_approval(policy_client, h):
    ids = [_propose(policy_client, h, f"i-{n}").json()["id"] for n in range(3)]
    for action_id in ids[:2]:
        ok = policy_client.post(f"/api/v1/actions/{action_id}/approve", headers=h.auth("approver"))
        assert ok.json()["status"] == "approved"
    third = policy_client.post(f"/api/v1/actions/{ids[2]}/approve", headers=h.auth("approver"))
    assert third.status_code == 409
    assert third.json()["detail"]["rule"] == "max_actions_per_day"
    got = policy_client.get(f"/api/v1/actions/{ids[2]}", headers=h.auth("viewer")).json()
    assert got["status"] == "pending_approval"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("max_actions_per_day: -1", "max_actions_per_day"),
        ("allowed_actions: {aws: {prod: [reboot]}}", "allowed_actions.aws.prod[0]"),
        ("max_monthly_spend: {USD: lots}", "max_monthly_spend.USD"),
        ("approvers: 2", "approvers"),
    ],
)
def test_bad_policy_file_names_the_field(tmp_path, text, field):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PolicyFileError) as err:
        load_policy(path)
    assert f"{path}: field {field}:" in str(err.value)


def test_app_refuses_to_start_on_a_bad_policy(settings, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("high_risk_approvers: [")
    with pytest.raises(PolicyFileError) as err:
        create_app(settings.model_copy(update={"POLICY_FILE": str(path)}))
    # One line with where the parser noticed it, as the monitors file's message.
    assert str(err.value) == (
        f"policy file {path}: not valid YAML: line 1, column 23: "
        "expected the node content, but found '<stream end>'"
    )


def test_example_policy_is_valid():
    example = Path(__file__).resolve().parents[3] / "config" / "policy.example.yaml"
    policy = load_policy(example)
    assert policy.required_approvals("high") == 2

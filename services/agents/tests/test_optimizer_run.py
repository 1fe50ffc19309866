"""Optimizer passes against the fake backend, directly and through its HTTP app."""

from __future__ import annotations

from datetime import date

from agents_testkit import FakeBackend, action, anomaly, cause
from costguard_agents.config import OptimizerSettings
from costguard_agents.optimizer import run_once
from costguard_agents.optimizer.__main__ import create_app
from costguard_core.client import BackendClient
from fastapi.testclient import TestClient

EC2 = "i-0123456789abcdef0"


def store(backend: FakeBackend, a, status: str = "open") -> None:
    backend.anomalies[a.id] = {**a.model_dump(mode="json"), "status": status}


def seed(backend: FakeBackend) -> None:
    store(backend, anomaly([cause(ResourceId=EC2, RegionId="us-east-1")], id="a" * 16))
    store(
        backend,
        anomaly(
            [cause(ServiceName="Amazon S3", ResourceId="logs")],
            id="b" * 16,
            start=date(2026, 10, 3),
            end=date(2026, 10, 3),
        ),
    )
    store(backend, anomaly([cause(ResourceId=EC2)], id="c" * 16), status="acknowledged")
    store(backend, anomaly([], id="d" * 16))


def test_run_once_proposes_for_open_anomalies_without_actions(backend):
    seed(backend)
    with BackendClient(backend.url, backend.api_key) as client:
        created = run_once(client)
        assert sorted((a.anomaly_id[0], a.action_type) for a in created) == [
            ("a", "stop_instance"),
            ("b", "notify_owner"),
        ]
        assert all(a.status == "pending_approval" for a in created)
        assert run_once(client) == []  # each now has an action
    assert len(backend.actions) == 2


def test_existing_action_of_any_status_blocks_a_new_one(backend):
    seed(backend)
    old = action("stop_instance", {}, anomaly_id="a" * 16, status="rejected", id=1)
    backend.actions.append(old.model_dump(mode="json"))
    with BackendClient(backend.url, backend.api_key) as client:
        created = run_once(client)
    assert [a.anomaly_id for a in created] == ["b" * 16]


def test_pages_are_followed(backend):
    for n in range(205):
        store(
            backend, anomaly([cause(ServiceName="Amazon S3", ResourceId=f"b{n}")], id=f"{n:016x}")
        )
    with BackendClient(backend.url, backend.api_key) as client:
        assert len(run_once(client)) == 205


def test_http_run(backend):
    seed(backend)
    settings = OptimizerSettings(BACKEND_URL=backend.url, COSTGUARD_API_KEY=backend.api_key)
    with TestClient(create_app(settings)) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        answer = http.post("/run")
        assert answer.status_code == 200
        body = answer.json()
        assert {a["action_type"] for a in body} == {"stop_instance", "notify_owner"}
        ec2 = next(a for a in body if a["action_type"] == "stop_instance")
        assert ec2["parameters"] == {"provider": "aws", "resource_id": EC2, "region": "us-east-1"}
        assert ec2["estimated_monthly_saving_usd"] == "9120.00"  # 300 USD excess in 1 day × 30.4
        assert http.post("/run").json() == []

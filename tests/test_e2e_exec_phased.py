"""Real execution over real HTTP: backend, executor (EXECUTOR_DRY_RUN=false) and MCP server
(MCP_EXECUTE_PROVIDERS=aws) as separate processes, boto3 in the MCP server pointed at a
ThreadedMotoServer with AWS_ENDPOINT_URL, and a local service whose health endpoint reads the
fleet's real state from moto.

One action stops 10 EC2 instances in phases (1, 5, 10) and ends ``executed`` with every instance
stopped; another stops a fleet whose service goes unhealthy as soon as one instance stops, so the
executor undoes phase 1 (StartInstances from the tool's own undo) and the action ends
``rolled_back`` with every instance running again. A third targets an instance whose billing
shows no spend on its latest billed day and is refused by the still-costly pre-check.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import httpx
import pytest
from costguard_core.client import BackendClient
from costguard_core.models import ActionCreate, ActionStatus, AnomalyCreate, CostRow
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class FleetHealth:
    """``GET /health``: 503 when any instance in ``watched`` is not running (state from moto)."""

    def __init__(self, ec2) -> None:
        self.watched: list[str] = []
        fleet = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                states = []
                if fleet.watched:
                    found = ec2.describe_instances(InstanceIds=fleet.watched)["Reservations"]
                    states = [i["State"]["Name"] for r in found for i in r["Instances"]]
                self.send_response(200 if all(s == "running" for s in states) else 503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def moto_url():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _fleet(ec2, n: int) -> list[str]:
    run = ec2.run_instances(ImageId="ami-12c6146b", MinCount=n, MaxCount=n, InstanceType="m5.large")
    return [i["InstanceId"] for i in run["Instances"]]


def _states(ec2, ids: list[str]) -> list[str]:
    found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    by_id = {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}
    return [by_id[i] for i in ids]


def _bill(agent: BackendClient, ids: list[str], cost: str) -> None:
    day = date.today() - timedelta(days=1)
    rows = [
        CostRow(
            ChargePeriodStart=day,
            ProviderName="AWS",
            ServiceName="Amazon Elastic Compute Cloud",
            ResourceId=rid,
            BillingCurrency="USD",
            BilledCost=cost,
            EffectiveCost=cost,
        )
        for rid in ids
    ]
    agent.ingest_costs("e2e-exec", rows)


def _propose(agent: BackendClient, ids: list[str], health_url: str | None) -> int:
    agent.create_anomaly(
        AnomalyCreate(
            id="anom-exec",
            start=date.today() - timedelta(days=1),
            end=date.today() - timedelta(days=1),
            scope={},
            expected_cost=10.0,
            actual_cost=50.0,
            impact_usd=40.0,
            severity="medium",
            confidence=0.9,
            root_causes=[],
        )
    )
    params: dict = {"provider": "aws", "region": REGION, "resource_ids": ids}
    if health_url:
        params["health_check_url"] = health_url
    action = ActionCreate(
        anomaly_id="anom-exec",
        action_type="stop_instance",
        provider="aws",
        title=f"stop {len(ids)} idle instances",
        parameters=params,
        estimated_monthly_saving_usd="100",
    )
    return agent.create_action(action).id


def _wait_final(client: BackendClient, action_id: int, timeout: float = 60):
    final = {ActionStatus.executed, ActionStatus.failed, ActionStatus.rolled_back}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        action = client.get_action(action_id)
        # failed → rolled_back is one transaction, so a failed action seen here stays failed
        if action.status in final:
            return action
        time.sleep(0.2)
    raise AssertionError(f"action {action_id} stuck in {action.status}")


def test_phased_stop_rollback_and_precheck(tmp_path: Path, make_stack, keys, moto_url) -> None:
    ec2 = boto3.client("ec2", region_name=REGION, endpoint_url=moto_url, **_creds())
    health = FleetHealth(ec2)
    extra = {
        **AWS_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        "MCP_EXECUTE_PROVIDERS": "aws",
        "MCP_LEDGER_PATH": str(tmp_path / "ledger.db"),
        "EXECUTOR_DRY_RUN": "false",
        "OUTBOX_POLL_INTERVAL_S": "0.1",
    }
    try:
        with make_stack(
            tmp_path,
            f"sqlite:///{tmp_path / 'x.db'}",
            services=("backend", "mcp", "executor"),
            extra_env=extra,
        ) as stack:
            stack.start()
            agent = BackendClient(stack.urls["backend"], keys["agent"])
            approver = BackendClient(stack.urls["backend"], keys["approver"])

            # 1. Ten instances, healthy service: phases 1 → 5 → 10, all stopped, executed.
            fleet = _fleet(ec2, 10)
            _bill(agent, fleet, "4.80")
            ok_id = _propose(agent, fleet, health.url)
            approver.approve(ok_id)
            done = _wait_final(approver, ok_id)
            result = done.execution_result
            assert done.status == ActionStatus.executed, result
            assert [p["cumulative"] for p in result["phases"]] == [1, 5, 10]
            assert all(p["health"]["service"]["ok"] for p in result["phases"])
            assert _states(ec2, fleet) == ["stopped"] * 10
            assert {v["state"]["state"] for v in result["verification"]} == {"stopped"}
            checks = result["prechecks"]["resources"]
            assert all(c["permitted"] is True for c in checks)  # EC2 DryRun probe
            assert {s["costly"] for s in result["prechecks"]["spend"]} == {True}
            export = httpx.get(
                stack.urls["backend"] + "/api/v1/audit-events/export",
                headers={"Authorization": f"Bearer {keys['approver']}"},
            ).text.splitlines()
            lines = [json.loads(x) for x in export]
            calls = [
                e for e in lines if e["entity_id"] == str(ok_id) and e["action"] == "tool_call"
            ]
            assert len(calls) == 10
            assert {(c["before"]["state"], c["after"]["state"]) for c in calls} == {
                ("running", "stopped")
            }

            # 2. The service goes down when any of its instances stops: phase 1 (one instance)
            #    trips the health check, the executor starts it again, the action rolls back.
            fleet2 = _fleet(ec2, 10)
            _bill(agent, fleet2, "4.80")
            health.watched = fleet2
            bad_id = _propose(agent, fleet2, health.url)
            approver.approve(bad_id)
            rolled = _wait_final(approver, bad_id)
            result = rolled.execution_result
            assert rolled.status == ActionStatus.rolled_back, result
            assert result["failed_check"] == "health" and result["rolled_back"] is True
            assert [p["cumulative"] for p in result["phases"]] == [1]
            assert [r["tool"] for r in result["rollback"]] == ["start_instance"]
            assert _states(ec2, fleet2) == ["running"] * 10
            events, _ = approver.audit_events(entity_type="action", entity_id=str(bad_id))
            trail = [e.to_status for e in events if e.to_status]
            assert trail[-3:] == ["executing", "failed", "rolled_back"]
            assert [e.detail["tool"] for e in events if e.action == "tool_call"] == [
                "stop_instance",
                "start_instance",
            ]

            # 3. Billing shows the instance cost nothing on its latest day: refused untouched.
            health.watched = []
            idle = _fleet(ec2, 1)
            _bill(agent, idle, "0")
            idle_id = _propose(agent, idle, None)
            approver.approve(idle_id)
            refused = _wait_final(approver, idle_id)
            assert refused.status == ActionStatus.failed
            assert refused.execution_result["failed_check"] == "still_costly"
            assert refused.execution_result["tool_calls"] == []
            assert _states(ec2, idle) == ["running"]
    finally:
        health.server.shutdown()
        health.server.server_close()


def _creds() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

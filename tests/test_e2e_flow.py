"""The seed flow over real HTTP, each service its own process, on SQLite and on PostgreSQL.

ingest → detective → optimizer → approve (as the authenticated approver) → dispatch (embedded
orchestrator, or Archestra played by a local HTTP server) → executor → MCP dry-run → signed
inbound webhook → executed, with the audit trail checked.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import ActionStatus

from costguard_cli import scenario
from costguard_cli.procs import Stack

SERVICES = ("backend", "mcp", "executor", "detective", "optimizer")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'e2e.db'}"
    return request.getfixturevalue("pg_database_url")


def wait_status(
    client: BackendClient, action_id: int, wanted: set[ActionStatus], timeout: float = 60
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        action = client.get_action(action_id)
        if action.status in wanted:
            return action
        time.sleep(0.2)
    raise AssertionError(f"action {action_id} stuck in {action.status}")


def propose_scenario_action(stack: Stack, agent: BackendClient) -> dict:
    agent.ingest_costs(scenario.SOURCE, scenario.rows())
    found = httpx.post(stack.urls["detective"] + "/run", timeout=120).raise_for_status().json()
    loop = [a for a in found if a["start"] == str(scenario.LOOP_START_DAY)]
    assert loop, found
    top = loop[0]["root_causes"][0]
    assert (top["ServiceName"], top["SubAccountId"], top["ResourceId"]) == (
        "BigQuery",
        scenario.PROJECT_ID,
        scenario.LOOP_JOB_ID,
    )
    created = httpx.post(stack.urls["optimizer"] + "/run", timeout=120).raise_for_status().json()
    action = next(a for a in created if a["anomaly_id"] == loop[0]["id"])
    assert action["action_type"] == "cancel_bigquery_job"
    assert action["status"] == "pending_approval"
    return action


def test_embedded_orchestrator_flow(tmp_path: Path, database_url: str, make_stack, keys) -> None:
    with make_stack(tmp_path, database_url, services=SERVICES) as stack:
        stack.start()
        agent = BackendClient(stack.urls["backend"], keys["agent"])
        approver = BackendClient(stack.urls["backend"], keys["approver"])
        viewer = BackendClient(stack.urls["backend"], keys["viewer"])
        action = propose_scenario_action(stack, agent)

        with pytest.raises(BackendError) as denied:
            viewer.approve(action["id"])
        assert denied.value.status_code == 403

        approved = approver.approve(action["id"], comment="stop the loop")
        assert approved.approved_by == "bob-approver"
        done = wait_status(approver, action["id"], {ActionStatus.executed, ActionStatus.failed})
        assert done.status == ActionStatus.executed, done.execution_result
        plan = done.execution_result["plan"]
        assert plan["dry_run"] is True and plan["executed"] is False
        assert plan["request"]["url"].startswith(
            f"https://bigquery.googleapis.com/bigquery/v2/projects/{scenario.PROJECT_ID}/jobs/"
            f"{scenario.LOOP_JOB_ID}/cancel"
        )

        with pytest.raises(BackendError) as again:
            approver.approve(action["id"])
        assert again.value.status_code == 409
        assert again.value.detail["current_status"] == "executed"

        events, _ = viewer.audit_events(entity_type="action", entity_id=str(action["id"]))
        trail = [(e.from_status, e.to_status) for e in events if e.to_status]
        assert trail == [
            (None, "proposed"),
            ("proposed", "pending_approval"),
            ("pending_approval", "approved"),
            ("approved", "executing"),
            ("executing", "executed"),
        ]
        assert next(e for e in events if e.to_status == "approved").actor == "bob-approver"
        metrics = httpx.get(stack.urls["backend"] + "/metrics").text
        assert "costguard_action_transitions_total" in metrics


class FakeArchestra(BaseHTTPRequestHandler):
    """Plays Archestra: records the resume webhook, then runs the executor agent as Archestra
    would (our executor is the agent it triggers) by posting the approved action to it."""

    received: list[dict] = []
    executor_url = ""
    backend: BackendClient | None = None

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append({"path": self.path, "body": body})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")
        action = self.backend.get_action(body["action_id"])
        httpx.post(self.executor_url + "/execute", json=action.model_dump(mode="json"), timeout=10)

    def log_message(self, *args: object) -> None:
        pass


def test_archestra_outbound_webhook_flow(tmp_path: Path, make_stack, keys) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeArchestra)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with make_stack(
            tmp_path,
            f"sqlite:///{tmp_path / 'a.db'}",
            services=SERVICES,
            extra_env={"ARCHESTRA_API_URL": url},
        ) as stack:
            stack.start()
            FakeArchestra.executor_url = stack.urls["executor"]
            FakeArchestra.backend = BackendClient(stack.urls["backend"], keys["viewer"])
            approver = BackendClient(stack.urls["backend"], keys["approver"])
            action = propose_scenario_action(
                stack, BackendClient(stack.urls["backend"], keys["agent"])
            )
            approver.approve(action["id"])
            done = wait_status(approver, action["id"], {ActionStatus.executed, ActionStatus.failed})
            assert done.status == ActionStatus.executed
            assert FakeArchestra.received == [
                {
                    "path": "/api/v1/webhooks/workflow/resume",
                    "body": {
                        "event": "action_review",
                        "action_id": action["id"],
                        "status": "approved",
                        "approver": "bob-approver",
                    },
                }
            ]
    finally:
        server.shutdown()


def test_bad_ingest_changes_nothing(tmp_path: Path, make_stack, keys) -> None:
    with make_stack(tmp_path, f"sqlite:///{tmp_path / 'b.db'}", services=("backend",)) as stack:
        stack.start()
        agent = BackendClient(stack.urls["backend"], keys["agent"])
        rows = scenario.rows()[:10]
        first = agent.ingest_costs("e2e", rows)
        assert (first.inserted, agent.list_costs()[1]) == (10, 10)
        assert agent.ingest_costs("e2e", rows).unchanged == 10
        bad = [r.model_dump(mode="json") for r in scenario.rows()[10:13]]
        bad[2]["BilledCost"] = "twelve"
        resp = httpx.post(
            stack.urls["backend"] + "/api/v1/costs/ingest",
            headers={"Authorization": f"Bearer {keys['agent']}"},
            json={"source": "e2e", "rows": bad},
        )
        assert resp.status_code == 422
        assert "BilledCost" in resp.text and "2" in resp.text
        assert agent.list_costs()[1] == 10

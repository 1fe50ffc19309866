"""Real calls (dry_run=False) for BigQuery, Azure and Vultr through their real clients
(google-cloud-bigquery, azure-mgmt-compute, httpx) against one local HTTP server that replays the
documented REST responses, records every request, and changes its state like the cloud would."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import anyio
import pytest
from costguard_mcp_cloud import srv
from costguard_mcp_cloud.bq_caps import capped_job_config
from costguard_mcp_cloud.ledger import counts
from mcp import Client

SUB = "00000000-0000-0000-0000-000000000001"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-web/providers/Microsoft.Compute/virtualMachines/web-1"
VULTR_ID = "cb676a46-66fd-4dfb-b839-443f2e6c0b60"


class Cloud:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []  # method, path, Authorization
        self.jobs = {"loop_job": "RUNNING"}
        self.vm_power = "PowerState/running"
        self.vultr_power = "running"
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, code: int, body: dict | None = None, headers=None) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _serve(self, method: str) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                path = urlparse(self.path).path
                cloud.requests.append((method, path, self.headers.get("Authorization")))
                self._answer(*cloud.route(method, path, self.headers.get("Host")))

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _job(self, project: str, job_id: str) -> dict:
        state = self.jobs[job_id]
        job = {
            "kind": "bigquery#job",
            "id": f"{project}:US.{job_id}",
            "jobReference": {"projectId": project, "jobId": job_id, "location": "US"},
            "configuration": {"query": {"query": "SELECT * FROM loop"}, "jobType": "QUERY"},
            "status": {"state": state},
        }
        if state == "DONE":
            job["status"]["errorResult"] = {"reason": "stopped", "message": "Job cancelled"}
        return job

    def route(self, method: str, path: str, host: str | None):
        if m := re.fullmatch(r"/bigquery/v2/projects/([\w-]+)/jobs/(\w+)(/cancel)?", path):
            project, job_id, cancel = m.groups()
            if job_id not in self.jobs:  # jobs.get / jobs.cancel on an unknown job: 404
                err = {"code": 404, "message": f"Not found: Job {project}:{job_id}"}
                return 404, {"error": {**err, "status": "NOT_FOUND"}}
            if cancel:
                self.jobs[job_id] = "DONE"
                answer = {"kind": "bigquery#jobCancelResponse", "job": self._job(project, job_id)}
                return 200, answer
            return 200, self._job(project, job_id)
        if path.lower().startswith(VM.lower()):
            rest = path[len(VM) :]
            if rest == "/instanceView":
                codes = ["ProvisioningState/succeeded", self.vm_power]
                return 200, {"statuses": [{"code": c} for c in codes]}
            if rest in ("/deallocate", "/start") and method == "POST":
                # Documented: 202 Accepted with Azure-AsyncOperation to poll; then Succeeded.
                power = "deallocated" if rest == "/deallocate" else "running"
                self.vm_power = f"PowerState/{power}"
                op = f"http://{host}/subscriptions/{SUB}/providers/Microsoft.Compute/operations/op1"
                return 202, None, {"Azure-AsyncOperation": op, "Retry-After": "0"}
        if path.endswith("/operations/op1"):
            return 200, {"status": "Succeeded"}
        if m := re.fullmatch(r"/v2/instances/([\w-]+)(/halt|/start)?", path):
            if m.group(1) != VULTR_ID:
                return 404, {"error": "Invalid instance-id.", "status": 404}
            if m.group(2):
                self.vultr_power = "stopped" if m.group(2) == "/halt" else "running"
                return 204, None
            body = {"id": VULTR_ID, "power_status": self.vultr_power, "status": "active"}
            return 200, {"instance": body}
        return 404, {"error": {"code": 404, "message": f"no route {method} {path}"}}


@pytest.fixture
def cloud(monkeypatch, tmp_path):
    c = Cloud()
    env = {
        "MCP_EXECUTE_PROVIDERS": "gcp,azure,vultr",
        "MCP_LEDGER_PATH": str(tmp_path / "ledger.db"),
        "BIGQUERY_API_ENDPOINT": c.url,
        "BIGQUERY_CAPS_PATH": str(tmp_path / "caps.json"),
        "AZURE_RESOURCE_MANAGER_URL": c.url,
        "AZURE_ACCESS_TOKEN": "arm-token",
        "VULTR_API_URL": c.url,
        "VULTR_API_KEY": "vultr-key",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    yield c
    c.server.shutdown()
    c.server.server_close()


def call(tool: str, args: dict) -> dict:
    async def go():
        async with Client(srv) as c:
            result = await c.call_tool(tool, args)
        assert not result.is_error, result.content
        return result.structured_content

    return anyio.run(go)


def test_bigquery_cancel_once_per_key(cloud, tmp_path):
    args = {"project_id": "acme-analytics", "job_id": "loop_job", "location": "US"}
    before = call("check_resource", {"tool": "cancel_bigquery_job", "arguments": args})
    assert (before["exists"], before["state"], before["done"]) == (
        True,
        {"state": "RUNNING"},
        False,
    )
    done = call("cancel_bigquery_job", {**args, "dry_run": False, "idempotency_key": "bq-1"})
    assert done["executed"] is True
    assert done["outcome"]["before"] == {"state": "RUNNING"}
    assert done["outcome"]["after"] == {"state": "DONE"}
    assert done["outcome"]["undo"] is None and "cannot be resumed" in done["outcome"]["undo_note"]
    again = call("cancel_bigquery_job", {**args, "dry_run": False, "idempotency_key": "bq-1"})
    assert again["replayed"] is True
    cancels = [r for r in cloud.requests if r[1].endswith("/cancel")]
    assert cancels == [("POST", "/bigquery/v2/projects/acme-analytics/jobs/loop_job/cancel", None)]
    assert counts(tmp_path / "ledger.db") == {"bq-1": (1, 2)}
    after = call("check_resource", {"tool": "cancel_bigquery_job", "arguments": args})
    assert after["done"] is True
    gone = call(
        "check_resource", {"tool": "cancel_bigquery_job", "arguments": {**args, "job_id": "nope"}}
    )
    assert gone["exists"] is False


def test_bigquery_bytes_cap_and_undo(cloud):
    args = {"project_id": "acme-analytics", "user_email": "etl@acme.example", "dry_run": False}
    call("set_bigquery_bytes_cap", {**args, "user_email": None, "max_bytes_billed": 10**12})
    done = call("set_bigquery_bytes_cap", {**args, "max_bytes_billed": 10**11})
    assert done["outcome"]["before"] == {"maximum_bytes_billed": None}
    config = capped_job_config("acme-analytics", "etl@acme.example")
    assert config.maximum_bytes_billed == 10**11  # the tighter of user and project caps
    assert capped_job_config("acme-analytics", "bi@acme.example").maximum_bytes_billed == 10**12
    undo = done["outcome"]["undo"]
    call(undo["tool"], {**undo["arguments"], "dry_run": False})
    assert capped_job_config("acme-analytics", "etl@acme.example").maximum_bytes_billed == 10**12


def test_azure_deallocate_and_start(cloud):
    args = {"provider": "azure", "resource_id": VM, "region": "westeurope"}
    done = call("stop_instance", {**args, "dry_run": False, "idempotency_key": "az-1"})
    assert done["outcome"]["before"] == {"power_state": "PowerState/running"}
    assert done["outcome"]["after"] == {"power_state": "PowerState/deallocated"}
    posts = [r for r in cloud.requests if r[0] == "POST"]
    assert posts == [("POST", VM + "/deallocate", "Bearer arm-token")]
    check = call("check_resource", {"tool": "stop_instance", "arguments": args})
    assert check["done"] is True
    undo = done["outcome"]["undo"]
    assert undo["tool"] == "start_instance"
    call(undo["tool"], {**undo["arguments"], "dry_run": False})
    assert cloud.vm_power == "PowerState/running"


def test_vultr_halt_and_start(cloud):
    done = call("halt_vultr_instance", {"instance_id": VULTR_ID, "dry_run": False})
    assert done["outcome"]["before"] == {"power_status": "running"}
    assert done["outcome"]["after"] == {"power_status": "stopped"}
    assert ("POST", f"/v2/instances/{VULTR_ID}/halt", "Bearer vultr-key") in cloud.requests
    undo = done["outcome"]["undo"]
    call(undo["tool"], {**undo["arguments"], "dry_run": False})
    assert cloud.vultr_power == "running"
    other = "00000000-0000-0000-0000-000000000000"
    gone = call(
        "check_resource", {"tool": "halt_vultr_instance", "arguments": {"instance_id": other}}
    )
    assert gone["exists"] is False


def test_providers_not_enabled_are_not_contacted(cloud, monkeypatch):
    monkeypatch.setenv("MCP_EXECUTE_PROVIDERS", "aws")
    check = call(
        "check_resource", {"tool": "halt_vultr_instance", "arguments": {"instance_id": VULTR_ID}}
    )
    assert check["checked"] is False and "vultr" in check["reason"]

    async def go():
        async with Client(srv) as c:
            return await c.call_tool(
                "halt_vultr_instance", {"instance_id": VULTR_ID, "dry_run": False}
            )

    result = anyio.run(go)
    assert result.is_error and "not enabled" in result.content[0].text
    assert cloud.requests == []

"""Executor end to end: a real executor process, a real MCP server process, and the fake backend
receiving the signed webhook report."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import httpx
import pytest
from agents_testkit import FakeBackend, action, free_port, start, stop
from costguard_agents.config import ExecutorSettings
from costguard_agents.executor import build_report, check_executable, deliver_report
from costguard_core.client import BackendError
from costguard_core.models import ExecutionReport

EC2 = "i-0123456789abcdef0"
TOKEN = "exec-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def stack(mcp_url: str) -> Iterator[tuple[FakeBackend, str]]:
    with FakeBackend(secret="test-secret") as backend:
        port = free_port()
        env = {
            "PORT": str(port),
            "BACKEND_URL": backend.url,
            "MCP_URL": mcp_url,
            "ARCHESTRA_WEBHOOK_SECRET": "test-secret",
            "COSTGUARD_API_KEY": "agent-key",  # pre-checks read the backend's policy and costs
            "EXECUTOR_TOKEN": TOKEN,
            "REPORT_BACKOFF_S": "0.05",
        }
        proc = start("costguard_agents.executor", env, f"http://127.0.0.1:{port}/healthz")
        try:
            yield backend, f"http://127.0.0.1:{port}"
        finally:
            stop(proc)


@pytest.fixture
def fresh(stack):
    backend, url = stack
    backend.reports.clear()
    backend.webhook_calls = backend.webhook_failures = 0
    return backend, url


def wait_reports(backend: FakeBackend, n: int = 1, timeout_s: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while len(backend.reports) < n:
        assert time.monotonic() < deadline, f"no report after {timeout_s} s"
        time.sleep(0.05)
    return backend.reports


def post(url: str, act, headers=AUTH) -> httpx.Response:
    headers = {**headers, "Content-Type": "application/json"}
    return httpx.post(f"{url}/execute", content=act.model_dump_json(), headers=headers, timeout=10)


def test_executed_report_carries_the_exact_plan(fresh):
    backend, url = fresh
    act = action("stop_instance", {"provider": "aws", "resource_id": EC2, "region": "us-east-1"})
    resp = post(url, act)
    assert (resp.status_code, resp.json()) == (202, {"accepted": True})
    (report,) = wait_reports(backend)  # signature verified by the fake backend
    assert report["event"] == "execution_complete"
    assert (report["action_id"], report["status"], report["executor"]) == (
        7,
        "executed",
        "executor-agent",
    )
    result = report["result"]
    assert result["dry_run"] is True and result["tool"] == "stop_instance"
    plan = result["plan"]
    assert (plan["provider"], plan["service"], plan["operation"]) == ("aws", "ec2", "StopInstances")
    assert plan["request"] == {"InstanceIds": [EC2]}
    assert (plan["dry_run"], plan["executed"], plan["region"]) == (True, False, "us-east-1")


def test_real_execution_parameter_is_overridden(fresh):
    backend, url = fresh
    params = {"project_id": "acme-bi", "job_id": "job_1", "location": "EU", "dry_run": False}
    assert post(url, action("cancel_bigquery_job", params, status="approved")).status_code == 202
    (report,) = wait_reports(backend)
    assert report["status"] == "executed"
    assert report["result"]["plan"]["request"]["url"] == (
        "https://bigquery.googleapis.com/bigquery/v2/projects/acme-bi/jobs/job_1/cancel?location=EU"
    )


def test_tool_error_reports_failed(fresh):
    backend, url = fresh
    act = action("stop_instance", {"provider": "aws", "resource_id": "vol-0abc", "region": "x-1"})
    assert post(url, act).status_code == 202
    (report,) = wait_reports(backend)
    assert report["status"] == "failed"
    assert "not an EC2 instance id" in report["result"]["error"]
    assert "plan" not in report["result"]


def test_report_is_retried_while_backend_is_unavailable(fresh):
    backend, url = fresh
    backend.webhook_failures = 2
    act = action("notify_owner", {"resource_id": "bucket-1", "message": "S3 spend doubled"})
    assert post(url, act).status_code == 202
    (report,) = wait_reports(backend)
    assert report["status"] == "executed"
    assert backend.webhook_calls == 3


def test_token_and_status_are_checked_before_accepting(fresh):
    backend, url = fresh
    act = action("notify_owner", {"resource_id": "r", "message": "m"})
    assert post(url, act, headers={}).status_code == 401
    assert post(url, act, headers={"Authorization": "Bearer wrong"}).status_code == 401
    pending = post(
        url, action("notify_owner", {"resource_id": "r", "message": "m"}, status="pending_approval")
    )
    assert pending.status_code == 409
    assert pending.json()["detail"]["error"] == "not_executable"
    assert httpx.post(f"{url}/execute", json={"id": 1}, headers=AUTH).status_code == 422
    time.sleep(0.3)
    assert backend.reports == []
    assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}


def settings(**kw) -> ExecutorSettings:
    return ExecutorSettings(ARCHESTRA_WEBHOOK_SECRET="test-secret", REPORT_BACKOFF_S=0.01, **kw)


def test_unreachable_mcp_server_reports_failed():
    act = action("notify_owner", {"resource_id": "r", "message": "m"})
    dead = f"http://127.0.0.1:{free_port()}/mcp"
    report = anyio.run(build_report, act, check_executable(act), settings(MCP_URL=dead))
    assert report.status == "failed"
    assert dead in report.result["error"]


def test_delivery_gives_up_after_the_attempt_budget(backend):
    backend.webhook_failures = 10
    report = ExecutionReport(action_id=1, status="executed", result={})
    with pytest.raises(BackendError) as err:
        deliver_report(report, settings(BACKEND_URL=backend.url, REPORT_ATTEMPTS=3))
    assert err.value.status_code == 503
    assert backend.webhook_calls == 3


def test_wrong_secret_is_not_retried(backend):
    report = ExecutionReport(action_id=1, status="executed", result={})
    bad = ExecutorSettings(ARCHESTRA_WEBHOOK_SECRET="other", BACKEND_URL=backend.url)
    with pytest.raises(BackendError) as err:
        deliver_report(report, bad)
    assert err.value.status_code == 401
    assert backend.webhook_calls == 1


def test_actions_are_accepted_while_many_reports_wait_for_the_backend(mcp_url):
    """Reports and pre-checks waiting out a backend restart (sleeping between retries) must not
    hold the threads the executor needs to accept the next action: Archestra posts each action
    once per trigger, so a /execute that hangs past its client's timeout loses the action."""
    port = free_port()
    env = {
        "PORT": str(port),
        "BACKEND_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: the backend is down
        "MCP_URL": mcp_url,
        "ARCHESTRA_WEBHOOK_SECRET": "test-secret",
        "EXECUTOR_TOKEN": TOKEN,
        "REPORT_BACKOFF_S": "5",
        "REPORT_ATTEMPTS": "20",
    }
    proc = start("costguard_agents.executor", env, f"http://127.0.0.1:{port}/healthz")
    try:
        url = f"http://127.0.0.1:{port}"
        waiting = 60  # more than the 40 worker threads anyio lends by default
        for n in range(waiting):
            act = action("notify_owner", {"resource_id": f"r{n}", "message": "m"}, id=n + 1)
            assert post(url, act).status_code == 202
        time.sleep(1)
        act = action("notify_owner", {"resource_id": "last", "message": "m"}, id=waiting + 1)
        started = time.monotonic()
        assert post(url, act).status_code == 202
        assert time.monotonic() - started < 5
        assert httpx.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
    finally:
        stop(proc)

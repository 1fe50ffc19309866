"""The real entry point: ``python -m costguard_backend`` migrates a fresh SQLite file and serves."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from decimal import Decimal

import httpx
import pytest
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import ActionCreate, AnomalyCreate, ExecutionReport


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_process_serves_healthz_and_the_shared_client(tmp_path, h):
    port = _free_port()
    db = tmp_path / "fresh" / "costguard.db"
    log_path = tmp_path / "backend.log"
    with h.Recorder() as executor, log_path.open("wb") as log:
        env = {
            **os.environ,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "ENVIRONMENT": "local",
            "DATABASE_URL": f"sqlite:///{db}",
            "EXECUTOR_URL": executor.url,
            "OUTBOX_POLL_INTERVAL_S": "0.2",
        }
        for name in ("COSTGUARD_API_KEYS", "ARCHESTRA_WEBHOOK_SECRET", "ARCHESTRA_API_URL"):
            env.pop(name, None)
        proc = subprocess.Popen(
            [sys.executable, "-m", "costguard_backend"], env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "backend did not start in 30 s"
                    time.sleep(0.2)
            assert resp.json() == {"status": "ok", "database": "ok"}
            assert db.exists()
            _full_flow(f"http://127.0.0.1:{port}", executor)
        finally:
            proc.terminate()
            proc.wait(timeout=15)


def _full_flow(base: str, executor) -> None:
    """anomaly → action → approval → embedded dispatch → signed report, via BackendClient."""
    agent = BackendClient(base, "dev-agent-key")
    approver = BackendClient(base, "dev-approver-key")
    anomaly = agent.create_anomaly(AnomalyCreate.model_validate(_anomaly()))
    action = agent.create_action(
        ActionCreate(
            anomaly_id=anomaly.id,
            action_type="notify_owner",
            provider="aws",
            title="Tell the owner",
            estimated_monthly_saving_usd=Decimal("0.01"),
        )
    )
    assert approver.approve(action.id, "fine").approved_by == "approver"
    deadline = time.monotonic() + 15
    while not executor.requests:
        assert time.monotonic() < deadline, "executor never called"
        time.sleep(0.1)
    assert executor.requests[0]["json"]["status"] == "executing"
    report = ExecutionReport(action_id=action.id, status="executed", result={"sent": True})
    assert agent.report_execution(report, secret="dev-webhook-secret")["changed"] is True
    assert agent.get_action(action.id).status == "executed"
    with pytest.raises(BackendError) as err:
        approver.approve(action.id)
    assert err.value.status_code == 409
    assert err.value.detail["current_status"] == "executed"


def _anomaly() -> dict:
    return {
        "id": "proc-1",
        "start": "2025-03-01",
        "end": "2025-03-02",
        "expected_cost": 1.0,
        "actual_cost": 9.0,
        "impact_usd": 8.0,
        "severity": "medium",
        "confidence": 0.5,
    }

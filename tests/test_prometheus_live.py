"""A real Prometheus server (Debian's ``prometheus`` package) scrapes a running backend and a
detective agent, and CostGuard metrics are read back through Prometheus' HTTP API.

Prometheus runs on 127.0.0.1 on a free port with its TSDB in the test's tmp dir and a 1 s scrape
interval, using the repository's rule files. The binary missing fails the run when CI=true and
skips otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml
from costguard_core.client import BackendClient
from costguard_core.models import AnomalyCreate

from costguard_cli.procs import free_port

ROOT = Path(__file__).resolve().parents[1]


def prometheus_binary() -> str:
    path = shutil.which("prometheus")
    if path:
        return path
    reason = "prometheus not installed (apt-get install -y --no-install-recommends prometheus)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def query(url: str, promql: str) -> list[dict]:
    answer = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


def wait_ready(url: str, timeout: float = 30.0) -> None:
    """Prometheus answers /-/ready with 200 only once its TSDB and rules are loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"Prometheus at {url} not ready after {timeout:.0f}s")


def wait_for(url: str, promql: str, timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = query(url, promql)
        except (httpx.HTTPError, ValueError):  # not up yet, or a not-ready text answer
            result = []
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"Prometheus never answered {promql!r}")


def test_prometheus_scrapes_backend_and_agent(tmp_path: Path, make_stack, keys) -> None:
    binary = prometheus_binary()
    with make_stack(
        tmp_path, f"sqlite:///{tmp_path / 'p.db'}", services=("backend", "detective")
    ) as stack:
        stack.start()
        agent = BackendClient(stack.urls["backend"], keys["agent"])
        agent.create_anomaly(
            AnomalyCreate(
                id="prom-live-1", start=date(2026, 10, 3), end=date(2026, 10, 3),
                scope={"ServiceName": "BigQuery"}, expected_cost=10.0, actual_cost=1510.0,
                impact_usd=1500.0, severity="high", confidence=0.9,
            )
        )  # fmt: skip
        httpx.post(stack.urls["detective"] + "/run", timeout=60).raise_for_status()

        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in sorted((ROOT / "prometheus/rules").glob("*.yml"))],
            "scrape_configs": [
                {
                    "job_name": "costguard-backend",
                    "static_configs": [{"targets": [f"127.0.0.1:{stack.ports['backend']}"]}],
                },
                {
                    "job_name": "costguard-agents",
                    "static_configs": [{"targets": [f"127.0.0.1:{stack.ports['detective']}"]}],
                },
            ],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log = (tmp_path / "prometheus.log").open("wb")
        server = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1h",
            ],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url)
            created = wait_for(url, 'costguard_anomalies_created_total{severity="high"} > 0')
            assert created[0]["metric"]["job"] == "costguard-backend"
            assert float(created[0]["value"][1]) == 1.0
            passes = wait_for(url, 'costguard_agent_passes_total{trigger="manual"} > 0')
            assert passes[0]["metric"]["agent"] == "detective"
            assert float(passes[0]["value"][1]) == 1.0
            up = {r["metric"]["job"]: r["value"][1] for r in query(url, "up")}
            assert up == {"costguard-backend": "1", "costguard-agents": "1"}
            rules = httpx.get(f"{url}/api/v1/rules", timeout=5).json()["data"]["groups"]
            assert any(g["name"] == "costguard.alerts" for g in rules)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            log.close()

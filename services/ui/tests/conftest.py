"""Fixtures: a real backend process on a free port (SQLite in a temp dir) and seeding helpers.

The backend runs with ENVIRONMENT=local (the dev API keys, plus :data:`ALICE_KEY`, a second
admin) and its outbox worker off, so an approved action stays ``approved`` instead of being
dispatched to an executor that these tests do not run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from costguard_backend.core.config import DEV_API_KEYS
from costguard_core.client import BackendClient
from costguard_core.models import (
    ActionCreate,
    ActionPublic,
    AnomalyPost,
    AnomalyPublic,
    CostRow,
    RootCause,
)

AGENT_KEY = "dev-agent-key"
#: The key of ``alice``, an admin other than the dev ``admin`` (changes made by someone else).
ALICE_KEY = "dev-alice-key"
APPROVER_KEY = "dev-approver-key"
VIEWER_KEY = "dev-viewer-key"
#: Daily EffectiveCost of a seeded scope before its anomaly (USD), and days of that history.
NORMAL_DAILY, HISTORY_DAYS = Decimal("100"), 35


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_backend(workdir: Path) -> tuple[subprocess.Popen, str, Path]:
    """Start ``python -m costguard_backend``; returns (process, base URL, log path) once healthy."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COSTGUARD_", "ARCHESTRA_"))}
    env.update(
        ENVIRONMENT="local",
        COSTGUARD_API_KEYS=f"{DEV_API_KEYS},alice:admin:{ALICE_KEY}",
        HOST="127.0.0.1",
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{workdir / 'costguard.db'}",
        OUTBOX_WORKER="false",
        # Nothing listens there: a dispatch attempt, if any, fails fast instead of reaching 8010.
        EXECUTOR_URL=f"http://127.0.0.1:{free_port()}",
    )
    log = workdir / "backend.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "costguard_backend"],
            cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"backend exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url, log
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"backend not healthy within 40 s:\n{log.read_text()}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def backend_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One backend shared by the tests that seed their own rows and assert on those."""
    proc, url, _ = start_backend(tmp_path_factory.mktemp("backend"))
    yield url
    stop(proc)


@pytest.fixture
def empty_backend_url(tmp_path: Path) -> Iterator[str]:
    """A fresh backend with no data, for assertions about an empty system."""
    proc, url, _ = start_backend(tmp_path)
    yield url
    stop(proc)


@pytest.fixture
def ui_env(monkeypatch: pytest.MonkeyPatch, backend_url: str) -> str:
    """Point the app (which runs in this process) at the shared backend as the dev approver."""
    for name in ("COSTGUARD_UI_TRUST_SSO_HEADER", "COSTGUARD_UI_SSO_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BACKEND_URL", backend_url)
    monkeypatch.setenv("COSTGUARD_API_KEY", APPROVER_KEY)
    return backend_url


@pytest.fixture
def agent(backend_url: str) -> Iterator[BackendClient]:
    with BackendClient(backend_url, AGENT_KEY) as client:
        yield client


@pytest.fixture
def approver(backend_url: str) -> Iterator[BackendClient]:
    with BackendClient(backend_url, APPROVER_KEY) as client:
        yield client


Seed = Callable[..., tuple[AnomalyPublic, ActionPublic]]


@pytest.fixture
def seed(agent: BackendClient) -> Seed:
    """``seed(severity=, impact=, saving=, costs=False, detected_at=None)`` posts one anomaly
    (with ``detected_at``, as the hourly path does) and one action proposed for it; with
    ``costs``, also the scope's daily rows: ``HISTORY_DAYS`` days of ``NORMAL_DAILY`` USD, then
    the 3 anomaly days each ``impact / 3`` (to the cent) above it."""

    def _seed(
        severity: str = "high",
        impact: float = 1234.5,
        saving: str = "321.09",
        costs: bool = False,
        detected_at: datetime | None = None,
    ) -> tuple[AnomalyPublic, ActionPublic]:
        tag = uuid.uuid4().hex[:10]
        start = date(2026, 10, 1) + timedelta(days=int(tag[:2], 16) % 28)
        if costs:
            extra = (Decimal(str(impact)) / 3).quantize(Decimal("0.01"))
            agent.ingest_costs(
                f"ui-test-{tag}",
                [
                    CostRow(
                        ChargePeriodStart=start + timedelta(days=d), ProviderName="AWS",
                        SubAccountId=f"acct-{tag}", ServiceName="Amazon EC2",
                        ResourceId=f"i-{tag}", BillingCurrency="USD",
                        BilledCost=NORMAL_DAILY + (extra if d >= 0 else 0),
                        EffectiveCost=NORMAL_DAILY + (extra if d >= 0 else 0),
                    )
                    for d in range(-HISTORY_DAYS, 3)
                ],
            )  # fmt: skip
        anomaly = agent.create_anomaly(
            AnomalyPost(
                id=f"ui-test-{tag}",
                detected_at=detected_at,
                start=start,
                end=start + timedelta(days=2),
                scope={"ServiceName": "Amazon EC2", "SubAccountId": f"acct-{tag}"},
                expected_cost=100.0,
                actual_cost=100.0 + impact,
                impact_usd=impact,
                severity=severity,
                confidence=0.9,
                root_causes=[
                    RootCause(
                        ProviderName="AWS",
                        ServiceName="Amazon EC2",
                        ResourceId=f"i-{tag}",
                        impact_usd=impact * 0.8,
                        share=0.8,
                    ),
                    RootCause(
                        ProviderName="AWS",
                        ServiceName="Amazon S3",
                        ResourceId=f"bucket-{tag}",
                        impact_usd=impact * 0.2,
                        share=0.2,
                    ),
                ],
            )  # fmt: skip
        )
        action = agent.create_action(
            ActionCreate(
                anomaly_id=anomaly.id,
                action_type="stop_instance",
                provider="aws",
                resource_id=f"i-{tag}",
                title=f"Stop idle instance i-{tag}",
                parameters={"provider": "aws", "resource_id": f"i-{tag}", "region": "us-east-1"},
                estimated_monthly_saving_usd=Decimal(saving),
            )
        )
        return anomaly, action

    return _seed

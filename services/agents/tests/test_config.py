"""Agent settings: dev secrets only in local, required and non-dev elsewhere."""

from __future__ import annotations

import pytest
from costguard_agents.config import ExecutorSettings, OptimizerSettings


def test_local_defaults(monkeypatch):
    for name in ("ENVIRONMENT", "COSTGUARD_API_KEY", "ARCHESTRA_WEBHOOK_SECRET", "PORT", "MCP_URL"):
        monkeypatch.delenv(name, raising=False)
    s = ExecutorSettings()
    assert (s.PORT, s.MCP_URL) == (8010, "http://127.0.0.1:8765/mcp")
    assert (s.COSTGUARD_API_KEY, s.ARCHESTRA_WEBHOOK_SECRET) == (
        "dev-agent-key",
        "dev-webhook-secret",
    )
    assert OptimizerSettings().OPTIMIZER_INTERVAL_S == 0


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"COSTGUARD_API_KEY": "k"}, "ARCHESTRA_WEBHOOK_SECRET must be set"),
        ({"ARCHESTRA_WEBHOOK_SECRET": "s"}, "COSTGUARD_API_KEY must be set"),
        (
            {"COSTGUARD_API_KEY": "k", "ARCHESTRA_WEBHOOK_SECRET": "dev-webhook-secret"},
            "dev secret",
        ),
        ({"COSTGUARD_API_KEY": "dev-agent-key", "ARCHESTRA_WEBHOOK_SECRET": "s"}, "dev key"),
    ],
)
def test_production_refuses_missing_or_dev_secrets(monkeypatch, env, needle):
    monkeypatch.setenv("ENVIRONMENT", "production")
    for name in ("COSTGUARD_API_KEY", "ARCHESTRA_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=needle):
        ExecutorSettings()


def test_production_with_real_secrets(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("COSTGUARD_API_KEY", "k-123")
    monkeypatch.setenv("ARCHESTRA_WEBHOOK_SECRET", "s-456")
    assert ExecutorSettings().ARCHESTRA_WEBHOOK_SECRET == "s-456"

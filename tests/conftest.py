"""Fixtures for the multi-process end-to-end tests: a fresh database per run and a service stack."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from costguard_cli.procs import Stack, free_ports

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A PostgreSQL database created for this test run and dropped after it."""
    name = f"costguard_e2e_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


KEYS = {
    "admin": "e2e-admin-key",
    "approver": "e2e-approver-key",
    "agent": "e2e-agent-key",
    "viewer": "e2e-viewer-key",
}
WEBHOOK_SECRET = "e2e-webhook-secret"


@pytest.fixture()
def keys() -> dict[str, str]:
    """API keys by role for the stack made by ``make_stack`` (principals alice-admin, bob-approver,
    agents, carol-viewer)."""
    return dict(KEYS)


@pytest.fixture()
def make_stack():
    """Factory: ``make_stack(tmp, database_url, services=(...), extra_env=None) -> Stack``."""
    return _make_stack


def _make_stack(
    tmp: Path,
    database_url: str,
    *,
    services: tuple[str, ...],
    extra_env: dict[str, str] | None = None,
) -> Stack:
    env = {
        "ENVIRONMENT": "local",
        "DATABASE_URL": database_url,
        "COSTGUARD_API_KEYS": ",".join(
            [
                f"alice-admin:admin:{KEYS['admin']}",
                f"bob-approver:approver:{KEYS['approver']}",
                f"agents:agent:{KEYS['agent']}",
                f"carol-viewer:viewer:{KEYS['viewer']}",
            ]
        ),
        "COSTGUARD_API_KEY": KEYS["agent"],
        "ARCHESTRA_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "OUTBOX_POLL_INTERVAL_S": "0.2",
        **(extra_env or {}),
    }
    return Stack(
        ports=dict(zip(services, free_ports(len(services)), strict=True)),
        env=env,
        log_dir=tmp / "logs",
    )

"""Fixtures: the fake backend and a real MCP server process (helpers live in agents_testkit)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from agents_testkit import FakeBackend, free_port, start, stop  # noqa: E402


@pytest.fixture
def backend() -> Iterator[FakeBackend]:
    with FakeBackend() as fake:
        yield fake


@pytest.fixture(scope="session")
def mcp_url() -> Iterator[str]:
    """A real ``python -m costguard_mcp_cloud`` process; yields its ``/mcp`` URL."""
    port = free_port()
    proc = start(
        "costguard_mcp_cloud",
        {"HOST": "127.0.0.1", "PORT": str(port)},
        f"http://127.0.0.1:{port}/healthz",
    )
    yield f"http://127.0.0.1:{port}/mcp"
    stop(proc)

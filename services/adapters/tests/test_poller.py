"""The poller against a real backend process: batches, idempotent re-delivery, bad input."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from costguard_adapters import files  # noqa: F401  (registers "file")
from costguard_adapters.poller import SourceConfig, poll_source
from costguard_adapters.registry import adapters
from costguard_core.client import BackendClient
from costguard_core.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "data"


@pytest.fixture()
def backend(tmp_path: Path) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "ENVIRONMENT": "local",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "costguard_backend"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_registry_names_and_schema() -> None:
    assert "file" in adapters.names()
    for name in adapters.names():
        cls = adapters.get(name)
        assert cls.__doc__ and cls.Settings.model_json_schema()["properties"]
    with pytest.raises(KeyError, match="unknown adapter"):
        adapters.get("nope")


def test_file_source_delivers_once(backend: str) -> None:
    client = BackendClient(backend, "dev-agent-key")
    source = SourceConfig(
        name="cur",
        adapter="file",
        settings={"paths": [str(EXAMPLES / "aws_cur_sample_anonymous.csv")]},
    )
    first = poll_source(client, source, batch_size=50)
    assert len(first) > 1
    stored = client.list_costs()[1]
    assert stored == sum(r.inserted for r in first) > 0
    again = poll_source(client, source, batch_size=50)
    assert sum(r.inserted + r.updated for r in again) == 0
    assert client.list_costs()[1] == stored


def test_bad_file_raises_and_stores_nothing(backend: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Foo,Bar\n1,2\n")
    client = BackendClient(backend, "dev-agent-key")
    with pytest.raises(InputError, match="bad.csv"):
        poll_source(
            client, SourceConfig(name="bad", adapter="file", settings={"paths": [str(bad)]})
        )
    assert client.list_costs()[1] == 0

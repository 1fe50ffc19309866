"""Local HTTP servers replaying documented API responses, for the adapters' real SDKs; a real
backend process (SQLite or PostgreSQL) and the poller as a process, for the poller tests."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import psycopg
import pytest
from costguard_core.client import BackendClient

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"

Handler = Callable[[str, str, bytes], tuple[int, dict | bytes] | tuple[int, dict | bytes, dict]]
#: One request as the server saw it: (method, path with query, headers with lower-case names).
Seen = tuple[str, str, dict[str, str]]


@pytest.fixture()
def http_server() -> Iterator[Callable[..., str]]:
    """``start(handler, seen=None)`` -> base URL; handler(method, path, body) -> (status, json
    object or the response body as bytes), or (status, body, response headers) to add headers
    (Location, Retry-After, ...; a Content-Type given there replaces application/json).
    ``seen``: a list each request is appended to as (method, path, request headers)."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: Handler, seen: list[Seen] | None = None) -> str:
        class H(BaseHTTPRequestHandler):
            def _do(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if seen is not None:
                    seen.append(
                        (self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                extra: dict = {}
                try:
                    status, answer, *more = handler(self.command, self.path, body)
                    extra = more[0] if more else {}
                except Exception as exc:  # a failed check must fail the test, not hang it
                    status, answer = 400, {"error": {"code": 400, "message": repr(exc)}}
                # bytes are sent as given (exact number text); 204 has no body
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                data = b"" if status == 204 else data
                self.send_response(status)
                self.send_header("Content-Type", extra.get("Content-Type", "application/json"))
                for name, value in extra.items():
                    if name != "Content-Type":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _do

            def log_message(self, *args: object) -> None:
                pass

        srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


PG_ADMIN = os.environ.get("COSTGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Backend:
    """``python -m costguard_backend`` on a fixed port and database; start/kill/restart."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ENVIRONMENT": "local",
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
            "DATABASE_URL": self.database_url,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "costguard_backend"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("backend did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def client(self) -> BackendClient:
        return BackendClient(self.url, "dev-agent-key")

    def stored_rows(self) -> int:
        """Daily rows committed so far, read from the SQLite file (works while the API is down)."""
        db = self.database_url.removeprefix("sqlite:///")
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            return con.execute("SELECT count(*) FROM cost_daily").fetchone()[0]


@pytest.fixture()
def backend(tmp_path: Path) -> Iterator[Backend]:
    """A backend on a fresh SQLite file (not started)."""
    b = Backend(f"sqlite:///{tmp_path / 'backend.db'}")
    yield b
    b.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A backend (not started) on a fresh SQLite file, then on a PostgreSQL database of its own
    (created on ``COSTGUARD_TEST_PG``'s server, dropped afterwards)."""
    if request.param == "sqlite":
        b = Backend(f"sqlite:///{tmp_path / 'backend.db'}")
        yield b
        b.stop()
        return
    name = f"costguard_adapters_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    server = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    b = Backend(f"{server}/{name}")
    try:
        yield b
    finally:
        b.stop()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture()
def start_poller(tmp_path: Path) -> Iterator[Callable[[Backend, Path], subprocess.Popen]]:
    """``start_poller(backend, config)``: ``python -m costguard_adapters --once`` with state in
    ``tmp_path/state`` and its log appended to ``tmp_path/poller.log``; killed if still running
    at teardown."""
    procs: list[subprocess.Popen] = []

    def start(backend: Backend, config: Path) -> subprocess.Popen:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BACKEND_URL": backend.url,
            "COSTGUARD_API_KEY": "dev-agent-key",
            "ADAPTERS_CONFIG": str(config),
            "STATE_DIR": str(tmp_path / "state"),
            "METRICS_PORT": str(free_port()),
        }
        with open(tmp_path / "poller.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "costguard_adapters", "--once"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


class FakeVultr:
    """A scriptable Vultr billing API v2 (the documented response shapes of ../shared/data/vultr:
    ``billing_invoices``, ``invoice_items``, ``pending_charges``, ``billing_history`` lists with
    ``meta.links``, and ``account``). A test changes the lists between polls; amounts are given
    as decimal text and sent as JSON numbers. ``account_pending`` None: the items' sum."""

    def __init__(self) -> None:
        self.invoices: list[tuple[dict, list[dict]]] = []
        self.pending: list[dict] = []
        self.history: list[dict] = []
        self.account_pending: str | None = None
        self.requests: list[str] = []

    @staticmethod
    def _numbers(records: list[dict]) -> list[dict]:
        money = ("total", "amount", "unit_price", "balance")
        return [{k: float(v) if k in money else v for k, v in r.items()} for r in records]

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        from decimal import Decimal
        from urllib.parse import urlparse

        route = urlparse(path).path
        self.requests.append(route)
        meta = {"meta": {"total": 0, "links": {"next": "", "prev": ""}}}
        if route == "/v2/billing/invoices":
            return 200, {"billing_invoices": self._numbers([h for h, _ in self.invoices]), **meta}
        for header, items in self.invoices:
            if route == f"/v2/billing/invoices/{header['id']}/items":
                return 200, {"invoice_items": self._numbers(items), **meta}
        if route == "/v2/billing/pending-charges":
            return 200, {"pending_charges": self._numbers(self.pending)}
        if route == "/v2/billing/history":
            return 200, {"billing_history": self._numbers(self.history), **meta}
        if route == "/v2/account":
            total = sum((Decimal(p["total"]) for p in self.pending), Decimal(0))
            figure = self.account_pending or str(total)
            return 200, {"account": {"name": "Example Account", "balance": -100.55,
                                     "pending_charges": float(figure)}}  # fmt: skip
        return 404, {"error": route}


@pytest.fixture()
def vultr_api(http_server) -> tuple[FakeVultr, str]:
    """A :class:`FakeVultr` served on a local port: ``(api, base_url)``."""
    api = FakeVultr()
    return api, http_server(api.handle)

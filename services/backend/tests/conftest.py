"""Shared fixtures: every API test runs against SQLite (a temp file) and PostgreSQL (a fresh
``costguard_test_<random>`` database on 127.0.0.1:5432, dropped at the end), both migrated with
``alembic upgrade head``. Tables are emptied before each test."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import psycopg
import pytest
import sqlalchemy as sa
from costguard_backend import models  # noqa: F401  (table metadata)
from costguard_backend.core.config import Settings
from costguard_backend.core.db import make_engine, run_migrations
from costguard_backend.main import create_app
from fastapi.testclient import TestClient
from sqlmodel import Session, SQLModel

PG_ADMIN_DSN = os.environ.get("COSTGUARD_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
WEBHOOK_SECRET = "test-webhook-secret"


def auth(role: str) -> dict[str, str]:
    """Headers for the documented local dev key of ``role`` (its principal has the same name)."""
    return {"Authorization": f"Bearer dev-{role}-key"}


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/costguard.db"
        run_migrations(url)
        yield url
        return
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}")
    name = f"costguard_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = sa.make_url(PG_ADMIN_DSN).set(database=name).render_as_string(hide_password=False)
        run_migrations(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with eng.begin() as conn:
        if eng.dialect.name == "postgresql":
            conn.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(sa.text(f"DELETE FROM {table}"))
    yield eng
    eng.dispose()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ENVIRONMENT": "local",
        "DATABASE_URL": database_url,
        "COSTGUARD_API_KEYS": "",
        "ARCHESTRA_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "ARCHESTRA_API_URL": None,
        "EXECUTOR_URL": "http://127.0.0.1:9",
        "IMAGE_DIGEST": "sha256:test",
        "OUTBOX_WORKER": False,
        "OUTBOX_BACKOFF_BASE_S": 0.01,
        "OUTBOX_HTTP_TIMEOUT_S": 5,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(engine: sa.Engine, database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


# -- test data ---------------------------------------------------------------------------------
def cost_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "ChargePeriodStart": "2025-03-01",
        "ProviderName": "AWS",
        "BillingAccountId": "111111111111",
        "SubAccountId": "222222222222",
        "ServiceName": "Amazon EC2",
        "ServiceCategory": "Compute",
        "RegionId": "us-east-1",
        "ResourceId": None,
        "ChargeCategory": "Usage",
        "BillingCurrency": "USD",
        "Tags": {"team": "data"},
        "BilledCost": "12.345678",
        "EffectiveCost": "10.5",
        "ListCost": None,
    }
    row.update(overrides)
    return row


def anomaly_body(anomaly_id: str = "anom-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": anomaly_id,
        "start": "2025-03-10",
        "end": "2025-03-12",
        "scope": {"ProviderName": "AWS"},
        "expected_cost": 100.0,
        "actual_cost": 640.0,
        "impact_usd": 540.0,
        "severity": "high",
        "confidence": 0.9,
        "root_causes": [
            {
                "ProviderName": "AWS",
                "ServiceName": "Amazon EC2",
                "RegionId": "us-east-1",
                "ResourceId": "i-0abc",
                "impact_usd": 500.0,
                "share": 0.93,
            },
        ],
    }
    body.update(overrides)
    return body


def action_body(anomaly_id: str = "anom-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "anomaly_id": anomaly_id,
        "action_type": "stop_instance",
        "provider": "aws",
        "resource_id": "i-0abc",
        "title": "Stop idle instance i-0abc",
        "description": "idle since the spike",
        "parameters": {"resource_id": "i-0abc", "region": "us-east-1"},
        "estimated_monthly_saving_usd": "1234.56",
        "risk": "low",
    }
    body.update(overrides)
    return body


def new_action(client: TestClient, anomaly_id: str = "anom-1") -> dict[str, Any]:
    """Post an anomaly (idempotent) and an action on it; return the action JSON."""
    assert client.post(
        "/api/v1/anomalies", json=anomaly_body(anomaly_id), headers=auth("agent")
    ).is_success
    resp = client.post("/api/v1/actions", json=action_body(anomaly_id), headers=auth("agent"))
    assert resp.status_code == 201, resp.text
    return resp.json()


def api_client(client: TestClient, api_key: str) -> Any:
    """A ``costguard_core.client.BackendClient`` with ``api_key`` whose requests the real app
    answers through ``client`` (the TestClient's transport is not httpx's sync one)."""
    import httpx
    from costguard_core.client import BackendClient

    def relay(request: httpx.Request) -> httpx.Response:
        resp = client.request(
            request.method, str(request.url), content=request.content, headers=request.headers
        )
        return httpx.Response(resp.status_code, content=resp.content, headers=resp.headers)

    return BackendClient("http://testserver", api_key, transport=httpx.MockTransport(relay))


def days(start: str, n: int) -> list[str]:
    first = date.fromisoformat(start).toordinal()
    return [date.fromordinal(first + i).isoformat() for i in range(n)]


# -- a real local HTTP peer (plays Archestra or the executor) ----------------------------------
class Recorder:
    """An HTTP server on 127.0.0.1:<random port> that records every POST and answers with the
    next status from ``statuses`` (then 202 forever)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses = list(statuses or [])
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)}
                )
                code = recorder.statuses.pop(0) if recorder.statuses else 202
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"accepted": true}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- a local Slack Web API (test_slack*.py) ----------------------------------------------------
class SlackServer:
    """``/api/chat.postMessage`` answers ``{"ok": true, "channel": <id>, "ts": n}`` (or
    ``{"ok": false, "error": "ratelimited"}``, not recorded, when ``refuse(body)`` is true); a
    channel given by name (``#name``) gets the id ``C<NAME>`` (letters and digits), one given by
    id keeps it.
    ``/respond/...`` (a response_url) answers 200 ``ok``. Every request is recorded.

    ``GET /api/conversations.history`` and ``conversations.replies`` (the thread of ``ts``)
    answer the posts of a channel given by id since ``oldest``, newest first, with their
    ``metadata`` when ``include_all_metadata`` is set, as Slack documents them; a channel given
    by name answers ``channel_not_found``. ``conversations.list`` lists the channels posted to
    by name, with their ids. ``history_error`` (e.g. ``missing_scope``), when set, is answered
    by all three instead."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.history_reads: list[dict[str, str]] = []
        self.history_error: str | None = None
        self.posted_at: list[float] = []  # Unix time of each post, for ``oldest``
        self.refuse: Callable[[dict[str, Any]], bool] = lambda body: False
        server = self

        def channel_id(channel: str) -> str:
            if not channel.startswith("#"):
                return channel
            return "C" + "".join(c for c in channel[1:].upper() if c.isalnum())

        def conversations() -> dict[str, Any]:
            names = dict.fromkeys(p["channel"] for p in server.posts if p["channel"][0] == "#")
            listed = [{"id": channel_id(n), "name": n[1:]} for n in names]
            return {"ok": True, "channels": listed, "response_metadata": {"next_cursor": ""}}

        def history(path: str, query: dict[str, str]) -> dict[str, Any] | str:
            server.history_reads.append({"path": path, **query})
            if server.history_error == "not json":
                return "<html>502 Bad Gateway</html>"
            if server.history_error:
                return {"ok": False, "error": server.history_error}
            if path.endswith("conversations.list"):
                return conversations()
            channel = query.get("channel", "")
            if not channel or channel.startswith("#"):
                return {"ok": False, "error": "channel_not_found"}
            oldest = float(query.get("oldest", "0"))
            found = [
                p
                for p, at in zip(server.posts, server.posted_at, strict=True)
                if channel_id(p["channel"]) == channel
                and at >= oldest  # the ts answered are fixed texts; Slack's are post times
                and (
                    path.endswith("conversations.history")
                    or query.get("ts") in (p["ts"], p.get("thread_ts"))
                )
            ]
            with_metadata = query.get("include_all_metadata") in ("1", "true")
            messages = [
                {
                    "type": "message",
                    "ts": p["ts"],
                    "text": p.get("text", ""),
                    **({"metadata": p["metadata"]} if with_metadata and "metadata" in p else {}),
                }
                for p in reversed(found)
            ]
            return {"ok": True, "messages": messages, "has_more": False}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                self._answer(history(url.path, dict(parse_qsl(url.query))))

            def _answer(self, out: dict[str, Any] | str) -> None:
                raw = out.encode() if isinstance(out, str) else json.dumps(out).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:  # noqa: N802
                raw_body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                out: dict[str, Any] | None
                if self.path.startswith("/api/conversations."):
                    # slack-sdk's WebClient POSTs every method, reads as a form.
                    self._answer(history(self.path, dict(parse_qsl(raw_body.decode()))))
                    return
                body = json.loads(raw_body)
                if self.path == "/api/chat.postMessage" and server.refuse(body):
                    out = {"ok": False, "error": "ratelimited"}
                elif self.path == "/api/chat.postMessage":
                    ts = f"1700000000.{len(server.posts) + 1:06d}"
                    server.posts.append({**body, "ts": ts})
                    server.posted_at.append(time.time())
                    out = {"ok": True, "channel": channel_id(body["channel"]), "ts": ts}
                else:
                    server.responses.append({"path": self.path, "body": body})
                    out = None
                raw = json.dumps(out).encode() if out else b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Died(Exception):
    """The backend process dying (a crash, a kill) at that point."""


def die_after_first_commit(monkeypatch: pytest.MonkeyPatch) -> list[Session]:
    """Make the process die right after its next commit: that commit goes through, then
    ``Died`` is raised, and any later commit raises ``Died`` without committing. Returns the
    sessions that tried to commit (``monkeypatch.undo()`` revives the process)."""
    commit, commits = Session.commit, []

    def commit_then_die(session: Session) -> None:
        commits.append(session)
        if len(commits) > 1:
            raise Died("a dead process commits nothing more")
        commit(session)
        raise Died("died right after the first commit")

    monkeypatch.setattr(Session, "commit", commit_then_die)
    return commits


def lose_first_slack_answer(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make the next Slack post go through and its answer be lost (a read timeout after Slack
    accepted it); returns the texts posted that way (one, once it has happened)."""
    from costguard_backend.notify import slack

    send, lost = slack.send, []

    def send_then_lose(token: str, base_url: str, message: dict[str, Any], timeout_s: float = 10):
        answer = send(token, base_url, message, timeout_s)
        if not lost:
            lost.append(message["text"])
            raise TimeoutError("The read operation timed out")
        return answer

    monkeypatch.setattr(slack, "send", send_then_lose)
    return lost


def buttons_for(posts: list[dict[str, Any]], action_id: int) -> list[str]:
    """The block ids of every Approve/Reject pair posted for ``action_id``."""
    return [
        b["block_id"]
        for p in posts
        for b in p.get("blocks", [])
        if b["type"] == "actions" and b["elements"][0]["value"] == str(action_id)
    ]


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    server = SlackServer()
    yield server
    server.close()


@pytest.fixture
def h() -> SimpleNamespace:
    """The helpers above, for test modules (importlib mode cannot import conftest by name)."""
    return SimpleNamespace(
        auth=auth,
        cost_row=cost_row,
        anomaly_body=anomaly_body,
        action_body=action_body,
        new_action=new_action,
        days=days,
        api_client=api_client,
        Recorder=Recorder,
        make_settings=make_settings,
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        Died=Died,
        die_after_first_commit=die_after_first_commit,
        lose_first_slack_answer=lose_first_slack_answer,
        buttons_for=buttons_for,
    )

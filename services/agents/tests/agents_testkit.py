"""Test kit for the agent tests (imported by name; conftest puts this folder on sys.path).

``FakeBackend``: a local HTTP server playing the CostGuard backend's contract (docs/architecture.md)
-- costs, anomalies and actions pages with the documented filters, idempotent anomaly posts
(revised when a post ends later),
API-key auth, and the HMAC-signed webhook (verified with ``costguard_core.signing``). Plus
process helpers and builders for wire models.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from costguard_core.models import (
    ActionCreate,
    ActionPublic,
    AnomalyPost,
    AnomalyPublic,
    RootCause,
)
from costguard_core.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


class FakeBackend:
    def __init__(self, *, api_key: str = "agent-key", secret: str = "test-secret") -> None:
        self.api_key, self.secret = api_key, secret
        self.costs: list[dict[str, Any]] = []
        # Hourly rows (``GET /api/v1/costs/hourly``); ``None`` plays a backend without the route.
        self.hourly: list[dict[str, Any]] | None = None
        self.hourly_queries: list[dict[str, str]] = []
        self.anomalies: dict[str, dict[str, Any]] = {}
        self.actions: list[dict[str, Any]] = []
        self.reports: list[dict[str, Any]] = []  # verified webhook bodies, in arrival order
        self.webhook_failures = 0  # answer this many webhook posts with 503 first
        self.webhook_calls = 0
        self.delivered = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeBackend:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- routes ----------------------------------------------------------------------------
    def route(self, method: str, path: str, query: dict, headers, body: bytes) -> tuple[int, Any]:
        if path == "/api/v1/archestra/webhook" and method == "POST":
            return self._webhook(headers, body)
        if headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"detail": "unknown API key"}
        limit, offset = int(query.get("limit", 50)), int(query.get("offset", 0))
        if path == "/api/v1/costs" and method == "GET":
            return 200, _page(self.costs, limit, offset)
        if path == "/api/v1/costs/hourly" and method == "GET" and self.hourly is not None:
            self.hourly_queries.append(query)
            since = datetime.fromisoformat(query["since"]) if "since" in query else None
            rows = [
                r
                for r in self.hourly
                if since is None or datetime.fromisoformat(r["ChargePeriodStart"]) >= since
            ]
            return 200, _page(rows, limit, offset)
        if path == "/api/v1/anomalies" and method == "GET":
            rows = sorted(self.anomalies.values(), key=lambda a: a["start"], reverse=True)
            if "status" in query:
                rows = [a for a in rows if a["status"] == query["status"]]
            return 200, _page(rows, limit, offset)
        if path == "/api/v1/anomalies" and method == "POST":
            data = AnomalyPost.model_validate_json(body).model_dump(mode="json")
            stored = self.anomalies.get(data["id"])
            if stored is not None:
                if data["end"] > stored["end"]:  # ISO dates: a later pass revises the figures
                    keep = ("start", "scope", "detected_at")
                    stored.update({k: v for k, v in data.items() if k not in keep})
                return 200, stored
            self.anomalies[data["id"]] = {**data, "status": "open", "created_at": _now()}
            return 201, self.anomalies[data["id"]]
        if path == "/api/v1/actions" and method == "GET":
            rows = [a for a in reversed(self.actions)]
            if "anomaly_id" in query:
                rows = [a for a in rows if a["anomaly_id"] == query["anomaly_id"]]
            return 200, _page(rows, limit, offset)
        if path == "/api/v1/actions" and method == "POST":
            data = ActionCreate.model_validate_json(body).model_dump(mode="json")
            action = {
                **data,
                "id": len(self.actions) + 1,
                "status": "pending_approval",
                "version": 1,
                "created_at": _now(),
                "updated_at": _now(),
            }
            self.actions.append(action)
            return 201, action
        return 404, {"detail": "Not Found"}

    def _webhook(self, headers, body: bytes) -> tuple[int, Any]:
        self.webhook_calls += 1
        if self.webhook_failures > 0:
            self.webhook_failures -= 1
            return 503, {"detail": "database unavailable"}
        reason = verify(
            self.secret, headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER), body
        )
        if reason:
            return 401, {"detail": reason}
        report = json.loads(body)
        self.reports.append(report)
        self.delivered.set()
        return 200, {"action_id": report["action_id"], "status": report["status"], "changed": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                url = urlparse(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with backend.lock:
                    code, payload = backend.route(method, url.path, query, self.headers, body)
                raw = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _page(rows: list, limit: int, offset: int) -> dict[str, Any]:
    return {"data": rows[offset : offset + limit], "count": len(rows)}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(proc: subprocess.Popen, url: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not healthy within {timeout_s} s")
        time.sleep(0.1)


def start(module: str, env: dict[str, str], health_url: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", module],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_healthy(proc, health_url)
    except Exception:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cause(**kw: Any) -> RootCause:
    base = {
        "ProviderName": "AWS",
        "ServiceName": "Amazon Elastic Compute Cloud",
        "impact_usd": 300.0,
        "share": 1.0,
    }
    return RootCause(**{**base, **kw})


def anomaly(causes: list[RootCause], **kw: Any) -> AnomalyPublic:
    base = {
        "id": "a1b2c3d4e5f60718",
        "start": date(2026, 10, 1),
        "end": date(2026, 10, 1),
        "scope": {},
        "expected_cost": 100.0,
        "actual_cost": 400.0,
        "impact_usd": 300.0,
        "severity": "medium",
        "confidence": 0.9,
        "created_at": datetime(2026, 10, 2, tzinfo=UTC),
    }
    return AnomalyPublic(**{**base, **kw, "root_causes": causes})


def action(action_type: str, parameters: dict[str, Any], **kw: Any) -> ActionPublic:
    now = datetime.now(UTC)
    base = {
        "id": 7,
        "anomaly_id": "a1b2c3d4e5f60718",
        "action_type": action_type,
        "provider": "aws",
        "title": "t",
        "parameters": parameters,
        "estimated_monthly_saving_usd": "10.00",
        "status": "executing",
        "version": 3,
        "created_at": now,
        "updated_at": now,
    }
    return ActionPublic(**{**base, **kw})

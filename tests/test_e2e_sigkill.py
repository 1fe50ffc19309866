"""A batch of approvals with the backend killed (SIGKILL) and restarted several times.

Separate processes over real HTTP: backend (SQLite file), executor, MCP server (its idempotency
ledger counts executions per key) and a local Slack Web API that records every delivery. The
dispatch runs three ways: the embedded orchestrator (200 approvals), and a local peer playing
Archestra in each of its contract styles -- the seed's resume webhook and the A2A trigger
``/v1/a2a/{agentId}`` with a Bearer token (100 approvals each, to keep the file near 90 s on
two cores). The peer acts once per Idempotency-Key, as Archestra runs an agent once per trigger,
by posting the action to the executor. After the run every action is in exactly one terminal
state reached once, every action's MCP key was executed once, every notification key was
delivered (a redelivery after a kill carries the same key, so the peer acts once per key), and
the audit hash chain still verifies.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from costguard_mcp_cloud.ledger import counts

#: mode → (approvals, approvals sent before each SIGKILL)
BATCHES = {
    "embedded": (200, (40, 110, 170)),
    "resume": (100, (20, 55, 85)),
    "a2a": (100, (20, 55, 85)),
}
AGENT_ID = "costguard-executor"
A2A_TOKEN = "archestra-e2e-token"


class SlackPeer:
    def __init__(self) -> None:
        self.keys: list[str] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                peer.keys.append(body["metadata"]["event_payload"]["idempotency_key"])
                out = b'{"ok": true, "ts": "1.0"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class ArchestraPeer:
    """Plays Archestra: records each trigger (path, Idempotency-Key, Authorization), answers
    200, and once per key runs our executor agent with the action -- from the A2A body, or for
    the resume webhook fetched from the backend (retried while the backend is being killed)."""

    def __init__(self, api_key: str) -> None:
        self.triggers: list[tuple[str, str, str | None]] = []
        self.seen: set[str] = set()
        self.lock = threading.Lock()
        self.executor_url = self.backend_url = ""
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                with peer.lock:
                    peer.triggers.append((self.path, key, self.headers.get("Authorization")))
                    first = key not in peer.seen
                    peer.seen.add(key)
                if first:  # accepted once received, even if the answer is then lost to a kill
                    threading.Thread(target=peer.run_agent, args=(body,), daemon=True).start()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:
                pass

        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def run_agent(self, body: dict) -> None:
        action = body.get("action") or _retrying(
            lambda: (
                httpx.get(
                    f"{self.backend_url}/api/v1/actions/{body['action_id']}", headers=self.headers
                )
                .raise_for_status()
                .json()
            ),
            timeout=60,
        )
        _retrying(lambda: httpx.post(f"{self.executor_url}/execute", json=action, timeout=10))


def _kill_and_restart(stack) -> None:
    proc = stack.procs["backend"]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    stack.start(["backend"])


def _unsettled(http, base, headers, ids, archestra, log_dir: Path) -> str:
    """What a failed run needs to be read: each action not executed with its status, outbox
    rows, whether Archestra (the peer) saw its trigger, and the executor log's last lines."""
    try:
        return _describe_unsettled(http, base, headers, ids, archestra, log_dir)
    except Exception as exc:  # the assertion's own message must survive a failing probe
        return f"(could not describe the unsettled actions: {exc!r})"


def _describe_unsettled(http, base, headers, ids, archestra, log_dir: Path) -> str:
    lines = []
    for action_id in ids:
        action = http.get(f"{base}/actions/{action_id}", headers=headers).json()
        if action["status"] == "executed":
            continue
        rows = http.get(f"{base}/outbox", headers=headers, params={"action_id": action_id})
        mine = [
            {k: r.get(k) for k in ("kind", "status", "attempts", "last_error")}
            for r in rows.json()["data"]
        ]
        seen = f"action-approved-{action_id}" in archestra.seen
        lines.append(f"action {action_id}: {action['status']}; outbox {mine}; peer saw {seen}")
    log = (log_dir / "executor.log").read_text(errors="replace").splitlines()
    return "\n".join(lines + ["executor.log tail:", *log[-40:]])


def _retrying(fn, *, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn()
        except (httpx.TransportError, httpx.HTTPStatusError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("mode", list(BATCHES))
def test_sigkill_during_approvals(mode: str, tmp_path: Path, make_stack, keys) -> None:
    N, KILL_AFTER = BATCHES[mode]  # noqa: N806
    slack = SlackPeer()
    archestra = ArchestraPeer(keys["viewer"])
    ledger = tmp_path / "ledger.db"
    extra = {
        "MCP_LEDGER_PATH": str(ledger),
        "SLACK_BOT_TOKEN": "xoxb-e2e",
        "SLACK_BASE_URL": slack.url,
        "OUTBOX_POLL_INTERVAL_S": "0.1",
        "OUTBOX_BACKOFF_BASE_S": "0.2",
        "OUTBOX_BACKOFF_MAX_S": "1",
        "OUTBOX_LEASE_S": "2",
        "OUTBOX_MAX_ATTEMPTS": "50",
        "REPORT_BACKOFF_S": "0.2",
        "REPORT_ATTEMPTS": "30",
    }
    if mode != "embedded":
        extra |= {
            "ARCHESTRA_API_URL": archestra.url,
            "ARCHESTRA_MODE": mode,
            "ARCHESTRA_AGENT_ID": AGENT_ID,
            "ARCHESTRA_API_TOKEN": A2A_TOKEN,
        }
    db = f"sqlite:///{tmp_path / 'k.db'}"
    try:
        with make_stack(
            tmp_path, db, services=("backend", "mcp", "executor"), extra_env=extra
        ) as stack:
            stack.start()
            archestra.executor_url = stack.urls["executor"]
            archestra.backend_url = stack.urls["backend"]
            base = stack.urls["backend"] + "/api/v1"
            agent = {"Authorization": f"Bearer {keys['agent']}"}
            approver = {"Authorization": f"Bearer {keys['approver']}"}
            http = httpx.Client(timeout=10)
            http.post(
                f"{base}/anomalies",
                headers=agent,
                json={
                    "id": "anom-kill",
                    "start": "2025-03-01",
                    "end": "2025-03-02",
                    "scope": {},
                    "expected_cost": 1.0,
                    "actual_cost": 2.0,
                    "impact_usd": 1.0,
                    "severity": "medium",
                    "confidence": 0.9,
                    "root_causes": [],
                },
            ).raise_for_status()
            ids = []
            for n in range(N):
                body = {
                    "anomaly_id": "anom-kill",
                    "action_type": "cancel_bigquery_job",
                    "provider": "gcp",
                    "title": f"cancel job {n}",
                    "parameters": {
                        "project_id": "acme-analytics",
                        "job_id": f"job_{n}",
                        "location": "US",
                    },
                    "estimated_monthly_saving_usd": "1",
                }
                ids.append(http.post(f"{base}/actions", headers=agent, json=body).json()["id"])
            started = time.monotonic()
            for n, action_id in enumerate(ids):
                if n in KILL_AFTER:
                    _kill_and_restart(stack)
                resp = _retrying(
                    lambda a=action_id: http.post(f"{base}/actions/{a}/approve", headers=approver)
                )
                # 409: the approval committed but the answer was lost to a kill; fine.
                assert resp.status_code in (200, 409), resp.text
            _kill_and_restart(stack)  # once more while dispatches and reports are in flight

            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                done = _retrying(
                    lambda: http.get(
                        f"{base}/actions",
                        headers=approver,
                        params={"status": "executed", "limit": 1},
                    ).json()["count"]
                )
                pending = _retrying(
                    lambda: http.get(
                        f"{base}/outbox", headers=approver, params={"status": "pending", "limit": 1}
                    ).json()["count"]
                )
                if done == N and pending == 0:
                    break
                time.sleep(0.5)
            elapsed = time.monotonic() - started

            assert done == N, f"{done}/{N} executed after {elapsed:.0f}s\n" + _unsettled(
                http, base, approver, ids, archestra, stack.log_dir
            )
            dead = http.get(f"{base}/outbox", headers=approver, params={"status": "dead"}).json()
            assert dead["count"] == 0, dead
            lines = [
                json.loads(x)
                for x in http.get(f"{base}/audit-events/export", headers=approver).text.splitlines()
            ]
            finals = Counter(e["entity_id"] for e in lines if e["to_status"] == "executed")
            assert finals == Counter({str(i): 1 for i in ids})
            approvals = Counter(e["entity_id"] for e in lines if e["to_status"] == "approved")
            assert set(approvals.values()) == {1} and len(approvals) == N
            assert http.get(f"{base}/audit-events/verify", headers=approver).json()["ok"] is True
    finally:
        for peer in (slack, archestra):
            peer.server.shutdown()
            peer.server.server_close()

    executed = counts(ledger)
    assert len(executed) == N and {e for e, _ in executed.values()} == {1}
    expected = {f"approval-requested-{i}" for i in ids} | {f"action-finished-{i}" for i in ids}
    assert set(slack.keys) == expected
    redelivered = len(slack.keys) - len(expected)
    if mode != "embedded":
        path = "/api/v1/webhooks/workflow/resume" if mode == "resume" else f"/v1/a2a/{AGENT_ID}"
        assert {p for p, _, _ in archestra.triggers} == {path}
        assert {a for _, _, a in archestra.triggers} == {f"Bearer {A2A_TOKEN}"}
        assert archestra.seen == {f"action-approved-{i}" for i in ids}
    print(
        f"\n[{mode}] {N} approvals, {len(KILL_AFTER) + 1} SIGKILLs, {elapsed:.1f}s to settle; "
        f"MCP calls received {sum(r for _, r in executed.values())} for {N} keys; "
        f"Slack redeliveries (same key) {redelivered}; "
        f"Archestra triggers {len(archestra.triggers)} for {len(archestra.seen)} keys"
    )

"""Idempotency ledger: each ``idempotency_key`` is executed at most once, across restarts.

A SQLite file (``MCP_LEDGER_PATH``, default ``var/mcp-ledger.db``) keeps, per key, the tool, its
answer and how many times the key was received. A repeated key returns the stored answer
(``replayed: true``) without calling the cloud again. Calls with one key are serialised within
a server process by that key's lock, held while the cloud call runs, so two concurrent calls
with one key cannot both execute. Calls with different keys run side by side (session 11: one
lock for every key made a slow cloud call, retried for tens of seconds, hold up every other
keyed call, each waiting in one of the server's worker threads).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _key_lock(key: str) -> threading.Lock:
    """The lock of one idempotency key (created on first use; keys are few: one per action)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def ledger_path() -> Path:
    return Path(os.environ.get("MCP_LEDGER_PATH", "var/mcp-ledger.db"))


def _connect() -> sqlite3.Connection:
    path = ledger_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute(
        "CREATE TABLE IF NOT EXISTS calls (idempotency_key TEXT PRIMARY KEY, tool TEXT NOT NULL,"
        " answer TEXT NOT NULL, executions INTEGER NOT NULL, received INTEGER NOT NULL)"
    )
    return conn


def once(key: str, tool: str, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``run()`` the first time ``key`` is seen and store its answer; later, the stored answer
    with ``replayed`` set. An exception from ``run`` stores nothing (the call may be retried)."""
    with _key_lock(key):
        conn = _connect()
        try:
            row = conn.execute(
                "SELECT answer FROM calls WHERE idempotency_key = ?", (key,)
            ).fetchone()
            if row is not None:
                conn.execute(
                    "UPDATE calls SET received = received + 1 WHERE idempotency_key = ?", (key,)
                )
                return {**json.loads(row[0]), "replayed": True}
            answer = run()
            conn.execute(
                "INSERT INTO calls VALUES (?, ?, ?, 1, 1)",
                (key, tool, json.dumps(answer, default=str)),
            )
            return answer
        finally:
            conn.close()


def counts(path: Path) -> dict[str, tuple[int, int]]:
    """``{key: (executions, received)}`` from a ledger file (for tests and operators)."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT idempotency_key, executions, received FROM calls").fetchall()
    finally:
        conn.close()
    return {k: (e, r) for k, e, r in rows}

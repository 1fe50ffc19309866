"""The idempotency ledger under concurrency: one key executes once, other keys do not wait."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from costguard_mcp_cloud import ledger


@pytest.fixture(autouse=True)
def _ledger_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MCP_LEDGER_PATH", str(tmp_path / "ledger.db"))


def test_a_slow_call_does_not_hold_up_other_keys():
    started, release = threading.Event(), threading.Event()

    def slow() -> dict:
        started.set()
        assert release.wait(10), "never released"
        return {"call": "slow"}

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(ledger.once, "k-slow", "stop_instance", slow)
        assert started.wait(5)
        other = pool.submit(ledger.once, "k-other", "stop_instance", lambda: {"call": "other"})
        # With one lock for every key this waits for the slow call (and times out here).
        assert other.result(timeout=5) == {"call": "other"}
        assert not first.done()
        release.set()
        assert first.result(timeout=5) == {"call": "slow"}


def test_concurrent_calls_with_one_key_execute_once():
    calls, gate = [], threading.Event()

    def run() -> dict:
        calls.append(1)
        gate.wait(0.2)  # stay inside the lock while the other calls arrive
        return {"n": len(calls)}

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: ledger.once("k1", "stop_instance", run), range(4)))
    assert len(calls) == 1
    assert sum(1 for a in answers if a.get("replayed")) == 3
    assert ledger.counts(ledger.ledger_path()) == {"k1": (1, 4)}

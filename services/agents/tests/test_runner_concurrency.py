"""The runner under load: ``POST /run`` calls queued behind a long pass hold no worker thread,
so ``/healthz`` and ``/metrics`` still answer, and passes still never overlap."""

from __future__ import annotations

import asyncio
import threading
from datetime import date

import anyio
import anyio.to_thread
import httpx
import pytest
from costguard_agents.runner import create_runner_app
from pydantic import BaseModel


class Item(BaseModel):
    n: int


class SlowPass:
    """A pass that blocks until ``release`` is set; records how many ran at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.running = 0
        self.most = 0
        self.calls = 0
        self._guard = threading.Lock()

    def __call__(self, since: date | None) -> list[Item]:
        with self._guard:
            self.running += 1
            self.calls += 1
            self.most = max(self.most, self.running)
        self.started.set()
        try:
            self.release.wait(10)
            return [Item(n=1)]
        finally:
            with self._guard:
                self.running -= 1


@pytest.mark.anyio
async def test_queued_runs_leave_health_and_metrics_answering() -> None:
    run = SlowPass()
    app = create_runner_app(title="CostGuard detective agent", run=run)
    # A small worker-thread pool (anyio's default is 40) so a handful of queued calls would
    # exhaust it if each held a thread while waiting for the pass lock.
    limiter = anyio.to_thread.current_default_thread_limiter()
    limiter.total_tokens = 3
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://agent") as http:
        calls = [asyncio.create_task(http.post("/run")) for _ in range(6)]
        while not run.started.is_set():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # the other five reach the handler and queue
        with anyio.fail_after(3):
            health = await http.get("/healthz")
            metrics = await http.get("/metrics")
        assert health.status_code == 200 and metrics.status_code == 200
        assert run.calls == 1  # the queued ones wait; none started alongside
        run.release.set()
        with anyio.fail_after(10):
            answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * 6
    assert run.calls == 6 and run.most == 1

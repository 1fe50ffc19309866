"""The HTTP shell shared by the detective and the optimizer: ``POST /run`` runs one pass now,
``GET /healthz`` reports liveness and the last pass (``POST /run?since=YYYY-MM-DD`` limits what a
pass reports to what starts on or after that UTC day; the detective honours it), and an optional
loop runs a pass every ``interval_s`` seconds. Passes never overlap (a lock serialises manual and
scheduled ones).

``GET /metrics`` serves Prometheus text from a registry private to the app (so several apps in one
process never clash), all labelled ``agent`` (e.g. ``detective``):

| metric | type | meaning |
|---|---|---|
| costguard_agent_passes_total | counter, ``trigger``=manual/scheduled | passes started |
| costguard_agent_pass_failures_total | counter | passes that raised |
| costguard_agent_items_created_total | counter | items the passes answered (anomalies/actions) |
| costguard_agent_pass_duration_seconds | histogram | wall time of each pass |
| costguard_agent_last_pass_duration_seconds | gauge | wall time of the latest pass |
| costguard_agent_last_success_timestamp_seconds | gauge | Unix time the latest good pass ended |
| costguard_agent_interval_seconds | gauge | the timer's period (0: passes only on ``POST /run``) |

``last_success`` is absent until a pass succeeds, so "never succeeded" and "stale" are separate
alert rules (prometheus/rules/costguard.rules.yml).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
from costguard_core.client import BackendError
from fastapi import FastAPI, HTTPException, Response, status
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("costguard_agents.runner")


class _State:
    def __init__(self) -> None:
        # An asyncio lock, taken in the event loop before a pass goes to a worker thread: a
        # call queued behind a long pass waits without holding one of the worker threads that
        # sync handlers need (a threading lock taken inside the thread did, and 40 queued
        # calls starved the pool).
        self.lock = asyncio.Lock()
        self.last_run: datetime | None = None
        self.last_count: int | None = None
        self.last_error: str | None = None


class _Metrics:
    """The pass metrics of one app, in their own registry."""

    def __init__(self, agent: str, interval_s: float) -> None:
        self.registry = CollectorRegistry()
        self.passes = Counter(
            "costguard_agent_passes",
            "Agent passes started.",
            registry=self.registry,
            labelnames=["agent", "trigger"],
        )
        self.failures = Counter(
            "costguard_agent_pass_failures",
            "Agent passes that raised.",
            registry=self.registry,
            labelnames=["agent"],
        )
        self.items = Counter(
            "costguard_agent_items_created",
            "Items (anomalies or actions) passes created.",
            registry=self.registry,
            labelnames=["agent"],
        )
        # Passes range from milliseconds (nothing new) to minutes (a full detective backfill).
        self.duration = Histogram(
            "costguard_agent_pass_duration_seconds",
            "Wall time of one agent pass.",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
            labelnames=["agent"],
        )
        self.last_duration = Gauge(
            "costguard_agent_last_pass_duration_seconds",
            "Wall time of the latest pass.",
            registry=self.registry,
            labelnames=["agent"],
        )
        self.last_success = Gauge(
            "costguard_agent_last_success_timestamp_seconds",
            "Unix time at which the latest successful pass ended.",
            registry=self.registry,
            labelnames=["agent"],
        )
        self.interval = Gauge(
            "costguard_agent_interval_seconds",
            "Seconds between scheduled passes (0: only on POST /run).",
            registry=self.registry,
            labelnames=["agent"],
        )
        self.interval.labels(agent).set(interval_s)
        for trigger in ("manual", "scheduled"):
            self.passes.labels(agent, trigger)
        for metric in (self.failures, self.items, self.duration, self.last_duration):
            metric.labels(agent)


def agent_name(title: str) -> str:
    """``"CostGuard detective agent"`` → ``"detective"`` (the ``agent`` label's default)."""
    words = [w for w in title.lower().split() if w not in ("costguard", "agent")]
    return "-".join(words) or "agent"


def create_runner_app(
    *,
    title: str,
    run: Callable[[date | None], Sequence[BaseModel]],
    interval_s: float = 0.0,
    agent: str | None = None,
) -> FastAPI:
    """An app around ``run`` (a blocking pass returning what it created). ``POST /run`` answers
    the pass's result list; a backend failure answers 502 with ``{"error", "message"}``.
    ``agent`` labels the metrics (default :func:`agent_name` of ``title``)."""
    state = _State()
    name = agent or agent_name(title)
    metrics = _Metrics(name, interval_s)

    def run_pass(since: date | None, trigger: str) -> Sequence[BaseModel]:
        metrics.passes.labels(name, trigger).inc()
        started = time.perf_counter()
        try:
            result = run(since)
        except Exception as exc:
            state.last_error = f"{type(exc).__name__}: {exc}"
            metrics.failures.labels(name).inc()
            raise
        finally:
            elapsed = time.perf_counter() - started
            metrics.duration.labels(name).observe(elapsed)
            metrics.last_duration.labels(name).set(elapsed)
        metrics.items.labels(name).inc(len(result))
        metrics.last_success.labels(name).set_to_current_time()
        state.last_run, state.last_count, state.last_error = (
            datetime.now(UTC),
            len(result),
            None,
        )
        return result

    async def run_locked(since: date | None = None, trigger: str = "manual") -> Sequence[BaseModel]:
        """One pass in a worker thread, after any pass under way (passes never overlap)."""
        async with state.lock:
            return await run_in_threadpool(run_pass, since, trigger)

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                result = await run_locked(None, "scheduled")
                log.info("%s: scheduled pass created %d item(s)", title, len(result))
            except Exception:
                log.exception("%s: scheduled pass failed", title)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(loop()) if interval_s > 0 else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan)

    # /healthz and /metrics only read memory: async, so they answer on the event loop even
    # when every worker thread is busy.
    @app.get("/healthz")
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "interval_s": interval_s,
            "last_run": state.last_run,
            "last_count": state.last_count,
            "last_error": state.last_error,
        }

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.post("/run")
    async def run_now(since: date | None = None) -> list[dict[str, Any]]:
        try:
            result = await run_locked(since)
        except (BackendError, httpx.TransportError) as exc:
            detail = {"error": "backend_failed", "message": str(exc)}
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail) from exc
        return [item.model_dump(mode="json") for item in result]

    return app

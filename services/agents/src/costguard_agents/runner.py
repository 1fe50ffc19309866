"""The HTTP shell shared by the detective and the optimizer: ``POST /run`` runs one pass now,
``GET /healthz`` reports liveness and the last pass (``POST /run?since=YYYY-MM-DD`` limits what a
pass reports to what starts on or after that UTC day; the detective honours it), and an optional
loop runs a pass every ``interval_s`` seconds. Passes never overlap (a lock serialises manual and
scheduled ones)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import httpx
from costguard_core.client import BackendError
from fastapi import FastAPI, HTTPException, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

log = logging.getLogger("costguard_agents.runner")


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_run: datetime | None = None
        self.last_count: int | None = None
        self.last_error: str | None = None


def create_runner_app(
    *, title: str, run: Callable[[date | None], Sequence[BaseModel]], interval_s: float = 0.0
) -> FastAPI:
    """An app around ``run`` (a blocking pass returning what it created). ``POST /run`` answers
    the pass's result list; a backend failure answers 502 with ``{"error", "message"}``."""
    state = _State()

    def run_locked(since: date | None = None) -> Sequence[BaseModel]:
        with state.lock:
            try:
                result = run(since)
            except Exception as exc:
                state.last_error = f"{type(exc).__name__}: {exc}"
                raise
            state.last_run, state.last_count, state.last_error = (
                datetime.now(UTC),
                len(result),
                None,
            )
            return result

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval_s)
            try:
                result = await run_in_threadpool(run_locked)
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

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "interval_s": interval_s,
            "last_run": state.last_run,
            "last_count": state.last_count,
            "last_error": state.last_error,
        }

    @app.post("/run")
    async def run_now(since: date | None = None) -> list[dict[str, Any]]:
        try:
            result = await run_in_threadpool(run_locked, since)
        except (BackendError, httpx.TransportError) as exc:
            detail = {"error": "backend_failed", "message": str(exc)}
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail) from exc
        return [item.model_dump(mode="json") for item in result]

    return app

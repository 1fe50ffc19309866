"""The executor's HTTP face: ``POST /execute`` (202, work continues in the background) and
``GET /healthz``."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

import anyio
from costguard_core.models import ActionPublic
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from costguard_agents.config import ExecutorSettings
from costguard_agents.executor.flow import build_report
from costguard_agents.executor.run import NotExecutableError, check_executable, deliver_report

log = logging.getLogger("costguard_agents.executor")
_bearer = HTTPBearer(auto_error=False)


async def execute_in_background(
    action: ActionPublic, tool: str, settings: ExecutorSettings
) -> None:
    """Run the action (pre-checks, phases, rollback, verification) and deliver the report; a
    report that cannot be delivered is logged (the backend's outbox re-dispatches actions left
    in ``executing``)."""
    report = await build_report(action, tool, settings)
    try:
        answer = await anyio.to_thread.run_sync(deliver_report, report, settings)
    except Exception:
        log.exception("could not deliver the %s report for action %s", report.status, action.id)
        return
    log.info("action %s reported %s: %s", action.id, report.status, answer)


def create_app(settings: ExecutorSettings | None = None) -> FastAPI:
    """Build the app; ``settings`` defaults to ``ExecutorSettings()`` from the environment."""
    cfg = settings or ExecutorSettings()
    app = FastAPI(title="CostGuard executor agent", version="0.1.0")

    async def authorize(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if cfg.EXECUTOR_TOKEN is None:
            return
        if creds is None or not hmac.compare_digest(creds.credentials, cfg.EXECUTOR_TOKEN):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or missing bearer token")

    # The routes and their dependency are coroutines on purpose: a sync one borrows one of
    # anyio's 40 worker threads, and those are what pre-checks and report deliveries sleep in
    # while they retry a backend that is down. With 40 such actions a sync /execute stopped
    # answering, and an orchestrator that posts each action once (Archestra, once per trigger)
    # lost the 41st (tests/test_e2e_sigkill.py[a2a] failed so in CI once).
    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/execute", status_code=status.HTTP_202_ACCEPTED, dependencies=[Depends(authorize)])
    async def execute(action: ActionPublic, background: BackgroundTasks) -> dict[str, bool]:
        """Accept an approved action (``ActionPublic`` JSON). 409 when its status is not
        ``approved``/``executing`` or its type has no tool, since the backend would refuse
        any report for it."""
        try:
            tool = check_executable(action)
        except NotExecutableError as exc:
            detail = {
                "error": "not_executable",
                "message": str(exc),
                "current_status": action.status,
            }
            raise HTTPException(status.HTTP_409_CONFLICT, detail) from exc
        background.add_task(execute_in_background, action, tool, cfg)
        return {"accepted": True}

    return app

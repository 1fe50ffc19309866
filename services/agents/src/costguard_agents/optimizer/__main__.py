"""``python -m costguard_agents.optimizer``: ``POST /run``, ``GET /healthz`` on ``PORT`` (8012),
plus a pass every ``OPTIMIZER_INTERVAL_S`` seconds when that is above 0."""

from __future__ import annotations

import logging
from datetime import date

import uvicorn
from costguard_core.client import BackendClient
from costguard_core.models import ActionPublic
from fastapi import FastAPI

from costguard_agents.config import OptimizerSettings
from costguard_agents.optimizer.service import run_once
from costguard_agents.runner import create_runner_app


def create_app(settings: OptimizerSettings) -> FastAPI:
    def run(_since: date | None) -> list[ActionPublic]:
        with BackendClient(
            settings.BACKEND_URL, settings.COSTGUARD_API_KEY, timeout=settings.BACKEND_TIMEOUT_S
        ) as client:
            return run_once(client)

    return create_runner_app(
        title="CostGuard optimizer agent", run=run, interval_s=settings.OPTIMIZER_INTERVAL_S
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = OptimizerSettings()
    uvicorn.run(create_app(settings), host=settings.HOST, port=settings.PORT)


if __name__ == "__main__":
    main()

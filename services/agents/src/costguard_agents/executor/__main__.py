"""``python -m costguard_agents.executor``: serve the executor on ``HOST``:``PORT`` (8010)."""

from __future__ import annotations

import logging

import uvicorn

from costguard_agents.config import ExecutorSettings
from costguard_agents.executor.app import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = ExecutorSettings()
    uvicorn.run(create_app(settings), host=settings.HOST, port=settings.PORT)


if __name__ == "__main__":
    main()

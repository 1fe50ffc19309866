"""``python -m costguard_backend``: migrate the database, then serve on HOST:PORT (uvicorn)."""

from __future__ import annotations

import logging

import uvicorn

from costguard_backend.core.config import get_settings
from costguard_backend.core.db import run_migrations
from costguard_backend.main import create_app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = get_settings()
    # A fresh SQLite file (or empty PostgreSQL database) works with no separate step.
    run_migrations(settings.DATABASE_URL)
    uvicorn.run(create_app(settings), host=settings.HOST, port=settings.PORT)


if __name__ == "__main__":
    main()

"""``python -m costguard_backend.backend_pre_start``: wait until DATABASE_URL answers.

Retries ``SELECT 1`` every 2 s for up to 2 minutes (tenacity), then exits non-zero, so a
container started alongside its database neither races nor hangs forever.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from tenacity import before_sleep_log, retry, stop_after_delay, wait_fixed

from costguard_backend.core.config import get_settings
from costguard_backend.core.db import check_database, make_engine

logger = logging.getLogger("costguard_backend.prestart")


@retry(
    stop=stop_after_delay(120),
    wait=wait_fixed(2),
    before_sleep=before_sleep_log(logger, logging.WARNING),
    reraise=True,
)
def wait_for_database(engine: sa.Engine) -> None:
    check_database(engine)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    engine = make_engine(get_settings().DATABASE_URL)
    try:
        wait_for_database(engine)
    finally:
        engine.dispose()
    logger.info("database is up")


if __name__ == "__main__":
    main()

"""``python -m costguard_adapters [--once]``: run the poller.

Environment: ADAPTERS_CONFIG (YAML or JSON, see :mod:`costguard_adapters.config`),
BACKEND_URL, COSTGUARD_API_KEY (an agent or admin key), POLL_INTERVAL_S (period of a source
without ``interval_s``, default 900), STATE_DIR (watermarks and spool, default var/adapters),
METRICS_PORT (Prometheus /metrics, default 8013).

Without ``--once`` it runs forever: polls each source when due, delivers the spool, and while
batches wait in the spool tries again every ``retry_max_wait_s``. With ``--once`` it polls every
source now, delivers, and exits 0 when everything was delivered, 1 when a poll failed, 3 when
batches remain spooled (the next run delivers them). A bad configuration exits 2 with the file
and field named.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from costguard_core.client import BackendClient
from prometheus_client import start_http_server
from pydantic_settings import BaseSettings

from costguard_adapters import metrics  # noqa: F401  (registers the poller's metrics)
from costguard_adapters.config import ConfigError, load_config
from costguard_adapters.poller import Poller


class Settings(BaseSettings):
    BACKEND_URL: str = "http://127.0.0.1:8000"
    COSTGUARD_API_KEY: str = "dev-agent-key"
    ADAPTERS_CONFIG: Path = Path("adapters.json")
    POLL_INTERVAL_S: float = 900.0
    STATE_DIR: Path = Path("var/adapters")
    METRICS_PORT: int = 8013


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m costguard_adapters", description=__doc__)
    parser.add_argument("--once", action="store_true", help="one cycle over all sources, then exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    try:
        config = load_config(settings.ADAPTERS_CONFIG)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    start_http_server(settings.METRICS_PORT)
    client = BackendClient(settings.BACKEND_URL, settings.COSTGUARD_API_KEY)
    poller = Poller(config, client, settings.STATE_DIR, settings.POLL_INTERVAL_S)
    if args.once:
        delivered = poller.run_due(time.time(), force=True)
        if not delivered and poller.spool.pending():
            return 3
        return 0 if delivered else 1
    while True:
        poller.run_due(time.time())
        wake = min(poller.due_at(s) for s in config.sources)
        if poller.spool.pending():
            wake = min(wake, time.time() + config.retry_max_wait_s)
        time.sleep(max(1.0, wake - time.time()))


if __name__ == "__main__":
    sys.exit(main())

"""``python -m costguard_adapters``: poll the sources in ADAPTERS_CONFIG every POLL_INTERVAL_S.

ADAPTERS_CONFIG is a JSON file: ``{"sources": [{"name":…, "adapter":…, "settings":{…}}]}``.
Prometheus metrics are served on METRICS_PORT (default 8013).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from costguard_core.client import BackendClient
from prometheus_client import Counter, start_http_server
from pydantic_settings import BaseSettings

from costguard_adapters import files  # noqa: F401  (registers the "file" adapter)
from costguard_adapters.poller import SourceConfig, poll_source

ROWS = Counter("costguard_adapter_rows_delivered_total", "Daily rows delivered", ["source"])
FAILURES = Counter("costguard_adapter_poll_failures_total", "Failed polls", ["source"])


class Settings(BaseSettings):
    BACKEND_URL: str = "http://127.0.0.1:8000"
    COSTGUARD_API_KEY: str = "dev-agent-key"
    ADAPTERS_CONFIG: Path = Path("adapters.json")
    POLL_INTERVAL_S: float = 900.0
    METRICS_PORT: int = 8013


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings()
    sources = [
        SourceConfig.model_validate(s)
        for s in json.loads(settings.ADAPTERS_CONFIG.read_text())["sources"]
    ]
    start_http_server(settings.METRICS_PORT)
    client = BackendClient(settings.BACKEND_URL, settings.COSTGUARD_API_KEY)
    while True:
        for source in sources:
            try:
                for result in poll_source(client, source):
                    ROWS.labels(source.name).inc(result.received)
            except Exception:
                FAILURES.labels(source.name).inc()
                logging.exception("poll of %s failed; will retry next cycle", source.name)
        time.sleep(settings.POLL_INTERVAL_S)


if __name__ == "__main__":
    main()

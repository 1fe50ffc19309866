"""The poller: pulls each configured source and posts its rows to the backend in batches.

Delivery retries with exponential backoff (tenacity) on connection errors and 5xx answers;
ingest is idempotent on source + day + dimensions, so a retried batch is never counted twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import islice

import httpx
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import CostRow, IngestResult
from pydantic import BaseModel, Field
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

from costguard_adapters.registry import adapters

log = logging.getLogger("costguard.adapters")


class SourceConfig(BaseModel):
    """One configured source: ``{"name": "prod-cur", "adapter": "file", "settings": {...}}``."""

    name: str = Field(min_length=1)
    adapter: str
    settings: dict = Field(default_factory=dict)


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, BackendError):
        return exc.status_code >= 500
    return isinstance(exc, httpx.TransportError)


@retry(
    retry=retry_if_exception(_transient),
    wait=wait_exponential(multiplier=0.5, max=30),
    stop=stop_after_attempt(8),
    reraise=True,
)
def _post(client: BackendClient, source: str, batch: list[CostRow]) -> IngestResult:
    return client.ingest_costs(source, batch)


def batches(rows: Iterable[CostRow], size: int) -> Iterator[list[CostRow]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def poll_source(
    client: BackendClient,
    source: SourceConfig,
    *,
    start: date | None = None,
    end: date | None = None,
    batch_size: int = 5_000,
) -> list[IngestResult]:
    """Pull one source and deliver it; returns one IngestResult per batch.

    Raises KeyError for an unknown adapter, pydantic.ValidationError for bad settings,
    costguard_core.errors.InputError for bad export files, BackendError once retries are spent.
    """
    cls = adapters.get(source.adapter)
    adapter = cls(cls.Settings.model_validate(source.settings))
    results = []
    for batch in batches(adapter.pull(start, end), batch_size):
        result = _post(client, f"{source.adapter}:{source.name}", batch)
        log.info("source %s: %s", source.name, result.model_dump())
        results.append(result)
    return results

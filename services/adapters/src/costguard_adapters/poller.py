"""The poller: pulls each configured source on its schedule into the spool, then delivers the
spool to the backend in order.

A poll of a source pulls the UTC days ``[watermark - restatement_days, today]`` (the first
poll: from the source's ``start``, else everything), writes the rows to the spool in batches
(daily rows and hourly rows in separate batches: hourly ones go to ``ingest-hourly``, every hour
of a re-pulled day again), and only then advances the watermark (a UTC day, for hourly rows
too). Delivery posts each spooled batch with retries and exponential backoff (tenacity) on
connection errors, 5xx, 408 and 429, and removes it once acknowledged. A batch whose
acknowledgement was lost is sent again; the backend's ingests are idempotent on source + day (or
hour) + dimensions + Tags (a changed cost replaces the old one), so nothing is counted twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path

import httpx
from costguard_core.client import BackendClient, BackendError
from costguard_core.errors import InputError
from costguard_core.models import CostRow, IngestResult
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from costguard_adapters import metrics
from costguard_adapters.config import PollerConfig, SourceConfig
from costguard_adapters.registry import adapters, row_day
from costguard_adapters.spool import HOURLY, Spool, endpoint_of
from costguard_adapters.state import Watermarks

__all__ = ["Poller", "SourceConfig", "batches"]

log = logging.getLogger("costguard.adapters")


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, BackendError):
        return exc.status_code >= 500 or exc.status_code in (408, 429)
    return isinstance(exc, httpx.TransportError)


def _retried(state: RetryCallState) -> None:
    metrics.RETRIES.inc()
    exc = state.outcome.exception() if state.outcome else None
    log.warning("post failed (attempt %d), backing off: %r", state.attempt_number, exc)


def batches(rows: Iterable[CostRow], size: int) -> Iterator[list[CostRow]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def batches_by_endpoint(rows: Iterable[CostRow], size: int) -> Iterator[list[CostRow]]:
    """Batches of at most ``size`` rows, each of one kind (daily or hourly), in pull order per
    kind; a kind's partial batch is yielded at the end."""
    pending: dict[str, list[CostRow]] = {}
    for row in rows:
        batch = pending.setdefault(endpoint_of(row), [])
        batch.append(row)
        if len(batch) >= size:
            yield pending.pop(endpoint_of(row))
    yield from (batch for batch in pending.values() if batch)


def _label(source_key: str) -> str:
    return source_key.split(":", 1)[-1]


class Poller:
    """Runs the sources of ``config`` against ``client``, keeping state in ``state_dir``
    (watermarks, spool, and ``adapters/<source name>/`` handed to each source's adapter).

    ``default_interval_s`` is the period of a source without ``interval_s``.
    """

    def __init__(
        self,
        config: PollerConfig,
        client: BackendClient,
        state_dir: Path,
        default_interval_s: float = 900.0,
    ) -> None:
        self.config = config
        self.client = client
        self.default_interval_s = default_interval_s
        self.state_dir = state_dir
        self.watermarks = Watermarks(state_dir)
        self.spool = Spool(state_dir)
        metrics.SPOOL_BATCHES.set(len(self.spool.pending()))

    def interval(self, source: SourceConfig) -> float:
        return source.interval_s or self.default_interval_s

    def due_at(self, source: SourceConfig) -> float:
        """Unix time the next poll of ``source`` is due (0 before its first poll)."""
        last = self.watermarks.last_poll(source.name)
        return 0.0 if last is None else last + self.interval(source)

    def window_start(self, source: SourceConfig, restatement_days: int) -> date | None:
        watermark = self.watermarks.watermark(source.name)
        if watermark is None:
            return source.start
        start = watermark - timedelta(days=restatement_days)
        return max(start, source.start) if source.start else start

    def poll(self, source: SourceConfig) -> int:
        """Pull one source into the spool and advance its watermark; returns rows spooled.

        Raises what the adapter raises (InputError for bad export files, SDK errors); batches
        spooled before the error stay spooled and the watermark does not move.
        """
        started = time.time()
        adapter = adapters.build(
            source.adapter, source.settings, state_dir=self.state_dir / "adapters" / source.name
        )
        start = self.window_start(source, adapter.settings.restatement_days)
        key = f"{source.adapter}:{source.name}"
        latest: date | None = None
        count = 0
        for batch in batches_by_endpoint(adapter.pull(start, None), self.config.batch_size):
            self.spool.put(key, batch)
            metrics.SPOOL_BATCHES.inc()
            count += len(batch)
            newest = max(row_day(r) for r in batch)
            latest = newest if latest is None else max(latest, newest)
        previous = self.watermarks.watermark(source.name)
        if latest is not None and previous is not None:
            latest = max(latest, previous)
        self.watermarks.record(source.name, latest, started)
        metrics.ROWS_PULLED.labels(source.name).inc(count)
        metrics.LAST_POLL.labels(source.name).set(started)
        if latest is not None:
            midnight = datetime(latest.year, latest.month, latest.day, tzinfo=UTC)
            metrics.WATERMARK.labels(source.name).set(midnight.timestamp())
        log.info("source %s: %d rows from %s, watermark %s", source.name, count, start, latest)
        return count

    def _send(self, endpoint: str, source_key: str, rows: list[CostRow]) -> IngestResult:
        post = self.client.ingest_hourly if endpoint == HOURLY else self.client.ingest_costs
        retrying = Retrying(
            retry=retry_if_exception(_transient),
            wait=wait_exponential(multiplier=0.5, max=self.config.retry_max_wait_s),
            stop=stop_after_attempt(self.config.retry_attempts),
            before_sleep=_retried,
            reraise=True,
        )
        return retrying(post, source_key, rows)

    def flush(self) -> bool:
        """Deliver the spool in order; True when it is empty afterwards.

        A batch still failing after ``retry_attempts`` stays spooled (with all later ones) for
        the next cycle; the error is logged, not raised.
        """
        try:
            delivered, rejected = self.spool.deliver(self._send)
        except Exception as exc:  # the backend is still away: keep the spool for later
            log.warning("delivery paused, %d batches spooled: %r", len(self.spool.pending()), exc)
            delivered, rejected = [], []
        for item in delivered:
            metrics.ROWS.labels(_label(item.source)).inc(item.result.received)
            log.info(
                "batch %s delivered to %s: %s", item.name, item.endpoint, item.result.model_dump()
            )
        for _path, source_key in rejected:
            metrics.REJECTED.labels(_label(source_key)).inc()
        pending = len(self.spool.pending())
        metrics.SPOOL_BATCHES.set(pending)
        return pending == 0

    def run_due(self, now: float, *, force: bool = False) -> bool:
        """Poll every source that is due (all of them with ``force``), then flush.

        Returns False when a poll failed or batches remain spooled.
        """
        ok = True
        for source in self.config.sources:
            if not force and self.due_at(source) > now:
                continue
            try:
                self.poll(source)
            except InputError as err:  # bad input: the message names file, row, field
                ok = False
                metrics.FAILURES.labels(source.name).inc()
                log.error("poll of %s failed; will retry next cycle: %s", source.name, err)
            except Exception:
                ok = False
                metrics.FAILURES.labels(source.name).inc()
                log.exception("poll of %s failed; will retry next cycle", source.name)
        return self.flush() and ok

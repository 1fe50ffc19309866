"""The disk spool: every batch is written here before it is posted, and removed only once the
backend has acknowledged it, so a backend outage (or a poller crash) loses nothing.

Layout under ``<state_dir>/spool``: one file per batch, ``<seq:012d>.json`` holding
``{"source": "<adapter>:<name>", "endpoint": "ingest" | "ingest-hourly", "rows": [...]}``,
written atomically: ``ingest`` batches hold ``CostRow`` JSON for ``POST /api/v1/costs/ingest``,
``ingest-hourly`` ones ``CostHourlyRow`` JSON for ``POST /api/v1/costs/ingest-hourly`` (money as
decimal strings in both). A file without ``endpoint`` (spooled before hourly rows existed) is an
``ingest`` batch and is delivered as one. Batches are delivered strictly in ``seq`` order, so
a restated value spooled later is never overwritten by an older value of the same row. A batch
the backend refuses for good (4xx other than 408/429: the rows themselves are bad), or one
naming an unknown endpoint, is moved to ``spool/rejected/`` beside a ``.error`` file, because
retrying cannot help and it must not block the batches behind it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from costguard_core.client import BackendError
from costguard_core.models import CostHourlyRow, CostRow, IngestResult

from costguard_adapters.state import atomic_write

log = logging.getLogger("costguard.adapters.spool")

#: Spool endpoint names and the row model each batch holds.
DAILY, HOURLY = "ingest", "ingest-hourly"
ROW_MODELS: dict[str, type[CostRow]] = {DAILY: CostRow, HOURLY: CostHourlyRow}


def endpoint_of(row: CostRow) -> str:
    """``"ingest-hourly"`` for a ``CostHourlyRow``, ``"ingest"`` for a daily ``CostRow``."""
    return HOURLY if isinstance(row, CostHourlyRow) else DAILY


class SpoolFileError(ValueError):
    """A spooled batch names an endpoint this poller does not know (it is set aside)."""


def permanent(exc: BaseException) -> bool:
    """True when re-sending the same batch can never succeed (the backend refused the rows)."""
    return (
        isinstance(exc, BackendError)
        and 400 <= exc.status_code < 500
        and (exc.status_code not in (408, 429))
    )


@dataclass(frozen=True)
class Delivered:
    """One acknowledged batch: its spool file name, source, endpoint and the backend's counts
    (of hourly rows for an ``ingest-hourly`` batch)."""

    name: str
    source: str
    endpoint: str
    result: IngestResult


class Spool:
    """Ordered, durable queue of batches in ``<state_dir>/spool``."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "spool"
        self.rejected_dir = self.dir / "rejected"
        self.rejected_dir.mkdir(parents=True, exist_ok=True)
        pending = self.pending()
        self._next = int(pending[-1].stem) + 1 if pending else 1

    def pending(self) -> list[Path]:
        """Spooled batches, oldest first."""
        return sorted(p for p in self.dir.glob("*.json") if p.stem.isdigit())

    def put(self, source: str, rows: list[CostRow]) -> Path:
        """Write one batch durably and return its file. Its endpoint follows from the rows
        (:func:`endpoint_of`); ValueError for a batch mixing daily and hourly rows."""
        endpoints = {endpoint_of(r) for r in rows}
        if len(endpoints) != 1:
            raise ValueError(f"a batch holds one kind of row, not {sorted(endpoints)}")
        path = self.dir / f"{self._next:012d}.json"
        payload = {
            "source": source,
            "endpoint": endpoints.pop(),
            "rows": [r.model_dump(mode="json") for r in rows],
        }
        atomic_write(path, json.dumps(payload, separators=(",", ":")).encode())
        self._next += 1
        return path

    def deliver(
        self, send: Callable[[str, str, list[CostRow]], IngestResult]
    ) -> tuple[list[Delivered], list[tuple[Path, str]]]:
        """Post pending batches in order with ``send(endpoint, source, rows)`` (``rows`` are
        ``CostHourlyRow`` for ``"ingest-hourly"``); remove each once acked.

        Returns ``(delivered, rejected)``, rejected as ``(moved file, source)`` pairs. A
        transient failure (``send`` raising anything that :func:`permanent` does not accept,
        once its own retries are spent) stops delivery and is re-raised; the failed batch and
        every later one stay spooled. A batch naming an unknown endpoint is set aside like a
        refused one (its ``.error`` says so).
        """
        delivered: list[Delivered] = []
        rejected: list[tuple[Path, str]] = []
        for path in self.pending():
            payload = json.loads(path.read_text(encoding="utf-8"))
            endpoint = payload.get("endpoint", DAILY)  # absent: spooled by an older poller
            try:
                model = ROW_MODELS.get(endpoint)
                if model is None:
                    raise SpoolFileError(
                        f"{path}: unknown endpoint {endpoint!r} (known: {', '.join(ROW_MODELS)})"
                    )
                rows = [model.model_validate(r) for r in payload["rows"]]
                result = send(endpoint, payload["source"], rows)
            except Exception as exc:
                if not (permanent(exc) or isinstance(exc, SpoolFileError)):
                    raise
                target = self.rejected_dir / path.name
                atomic_write(target.with_suffix(".error"), str(exc).encode())
                os.replace(path, target)
                log.error("batch %s refused, kept in %s: %s", path.name, target, exc)
                rejected.append((target, payload["source"]))
                continue
            path.unlink()  # only now: the backend has committed the batch
            delivered.append(Delivered(path.name, payload["source"], endpoint, result))
        return delivered, rejected

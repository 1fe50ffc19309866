"""The poller's durable state under STATE_DIR: atomic file writes and per-source watermarks.

``watermarks.json`` maps a source name to ``{"watermark": "YYYY-MM-DD", "last_poll": <unix s>}``:
the watermark is the latest UTC day a poll of that source pulled and spooled; the next poll
starts ``restatement_days`` before it. Every write goes to a temporary file in the same folder,
is fsynced and then renamed over the old file, so a crash leaves the old or the new version,
never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file + fsync + rename + dir fsync)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # makes the rename itself durable
    finally:
        os.close(dir_fd)


class Watermarks:
    """Per-source watermark and last poll time, persisted in ``<state_dir>/watermarks.json``.

    Raises ValueError naming the file when it exists but is not the expected JSON object.
    """

    def __init__(self, state_dir: Path) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / "watermarks.json"
        self._data: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{self.path}: not JSON: {exc.msg}") from exc
            if not isinstance(data, dict):
                raise ValueError(f"{self.path}: expected a JSON object of sources")
            self._data = data

    def watermark(self, source: str) -> date | None:
        """Latest day pulled and spooled for ``source``, or None before its first poll."""
        value = self._data.get(source, {}).get("watermark")
        return date.fromisoformat(value) if value else None

    def last_poll(self, source: str) -> float | None:
        """Unix time (s) the last completed poll of ``source`` started, or None."""
        return self._data.get(source, {}).get("last_poll")

    def record(self, source: str, watermark: date | None, started: float) -> None:
        """Store a completed poll (a None watermark keeps the previous one) and persist."""
        entry = dict(self._data.get(source, {}))
        if watermark is not None:
            entry["watermark"] = watermark.isoformat()
        entry["last_poll"] = started
        self._data[source] = entry
        atomic_write(self.path, json.dumps(self._data, indent=1, sort_keys=True).encode())

"""Per-project and per-user BigQuery bytes-billed caps, kept in a store the project owns.

What this is, plainly: BigQuery has no API that sets a default ``maximum_bytes_billed`` for a
project or a user. The limit exists per query job (``QueryJobConfig.maximum_bytes_billed``: a
query that would bill more fails without charge), and Google Cloud's enforced per-project and
per-user daily limits are custom quotas (``QueryUsagePerDay`` / ``QueryUsagePerUserPerDay``)
changed through the Cloud Quotas API, which this server does not call. So the cap is written to a
JSON file (``BIGQUERY_CAPS_PATH``, default ``var/bigquery-caps.json``: ``{"<project>": bytes,
"<project>/<user>": bytes}``) and applied by :func:`capped_job_config` to every query run through
a client that asks it (a workload that builds its own job config is not capped).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from google.cloud import bigquery

_LOCK = threading.Lock()


def caps_path() -> Path:
    return Path(os.environ.get("BIGQUERY_CAPS_PATH", "var/bigquery-caps.json"))


def _key(project_id: str, user_email: str | None) -> str:
    return f"{project_id}/{user_email}" if user_email else project_id


def read_caps() -> dict[str, int]:
    path = caps_path()
    return json.loads(path.read_text()) if path.exists() else {}


def capped_job_config(project_id: str, user_email: str | None = None) -> bigquery.QueryJobConfig:
    """A ``QueryJobConfig`` whose ``maximum_bytes_billed`` is the tightest cap stored for the
    user in the project and for the project (None when neither has one)."""
    caps = read_caps()
    found = [caps[k] for k in (_key(project_id, user_email), project_id) if k in caps]
    return bigquery.QueryJobConfig(maximum_bytes_billed=min(found) if found else None)


def set_cap(project_id: str, user_email: str | None, max_bytes: int | None) -> dict[str, Any]:
    """Store (or with ``max_bytes`` None, remove) a cap; undo restores the previous value."""
    key = _key(project_id, user_email)
    path = caps_path()
    with _LOCK:
        caps = read_caps()
        before = caps.get(key)
        if max_bytes is None:
            caps.pop(key, None)
        else:
            caps[key] = max_bytes
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(caps, indent=2, sort_keys=True))
        tmp.replace(path)  # atomic: the old file or the new one, never half
    return {
        "did": {"operation": "caps.set", "key": key, "maximum_bytes_billed": max_bytes},
        "before": {"maximum_bytes_billed": before},
        "after": {"maximum_bytes_billed": max_bytes},
        "undo": {
            "tool": "set_bigquery_bytes_cap",
            "arguments": {
                "project_id": project_id,
                "user_email": user_email,
                "max_bytes_billed": before,
            },
        },
    }

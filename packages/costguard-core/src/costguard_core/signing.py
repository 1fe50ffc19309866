"""HMAC-SHA256 signing of webhook deliveries (the inbound Archestra/executor webhook).

The signature covers ``f"{timestamp}.".encode() + raw_body`` so a replayed body with a new
timestamp fails. Headers: ``X-CostGuard-Timestamp`` (Unix seconds) and
``X-CostGuard-Signature: sha256=<hex>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-CostGuard-Timestamp"
SIGNATURE_HEADER = "X-CostGuard-Signature"
DEFAULT_TOLERANCE_S = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Return ``"sha256=<hex>"`` for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """Headers to send with ``body``: timestamp plus signature."""
    ts = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(secret, ts, body)}


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> str | None:
    """Check a delivery. Returns ``None`` when valid, else the reason it is refused."""
    if not timestamp or not signature:
        return "missing signature headers"
    try:
        ts = int(timestamp)
    except ValueError:
        return "malformed timestamp"
    current = now if now is not None else time.time()
    if abs(current - ts) > tolerance_s:
        return "stale timestamp"
    if not hmac.compare_digest(sign(secret, ts, body), signature):
        return "bad signature"
    return None

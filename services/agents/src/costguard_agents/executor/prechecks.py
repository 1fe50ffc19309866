"""The executor's questions to the backend before (and between phases of) an execution.

* ``image_allowed``: ``GET /api/v1/policy`` → ``allowed_image_digests`` (cached for
  ``POLICY_CACHE_S``, default 10 s); the executor's own ``IMAGE_DIGEST`` must be listed (an
  empty list allows any image). A backend without the
  endpoint (404) has no digest rule to publish; the backend still checks the digest on the
  report.
* ``recent_spend``: ``GET /api/v1/costs?resource_id=…`` → EffectiveCost per BillingCurrency on
  the resource's latest billed day (UTC), exact Decimals, never summed across currencies. Billing
  data lags usage by hours to a day, so this says whether the resource was still costing money
  when billing last landed, not at this second.

Both retry connection errors, 5xx and 429 with exponential backoff (the backend may be
restarting) and raise ``httpx.HTTPError`` when the budget runs out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from costguard_agents.config import ExecutorSettings

PAGE = 1000


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, httpx.TransportError)


def _get(settings: ExecutorSettings, path: str, params: dict[str, Any]) -> httpx.Response:
    retrying = Retrying(
        stop=stop_after_attempt(settings.REPORT_ATTEMPTS),
        wait=wait_exponential(multiplier=settings.REPORT_BACKOFF_S, max=10),
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    headers = {"Authorization": f"Bearer {settings.COSTGUARD_API_KEY}"}
    url = settings.BACKEND_URL.rstrip("/") + path
    for attempt in retrying:
        with attempt:
            resp = httpx.get(
                url, params=params, headers=headers, timeout=settings.BACKEND_TIMEOUT_S
            )
            if resp.status_code != 404:
                resp.raise_for_status()
            return resp
    raise AssertionError("unreachable: tenacity either returns or reraises")


_POLICY_CACHE: dict[str, tuple[float, list[str] | None]] = {}


def _allowed_digests(settings: ExecutorSettings) -> list[str] | None:
    """The policy's digest list (None: the backend has no policy endpoint), cached for
    ``POLICY_CACHE_S`` so a batch of actions does not ask once per action."""
    hit = _POLICY_CACHE.get(settings.BACKEND_URL)
    if hit is not None and time.monotonic() - hit[0] < settings.POLICY_CACHE_S:
        return hit[1]
    resp = _get(settings, "/api/v1/policy", {})
    allowed = None if resp.status_code == 404 else list(resp.json()["allowed_image_digests"])
    _POLICY_CACHE[settings.BACKEND_URL] = (time.monotonic(), allowed)
    return allowed


def image_allowed(settings: ExecutorSettings) -> dict[str, Any]:
    """``{"ok": bool, "image_digest", "allowed": [...] | None, "note"?}``; ``ok`` False only
    when the policy lists digests and this executor's is not among them."""
    allowed = _allowed_digests(settings)
    if allowed is None:
        return {
            "ok": True,
            "image_digest": settings.IMAGE_DIGEST,
            "allowed": None,
            "note": "backend publishes no policy (404); it checks the digest on the report",
        }
    ok = not allowed or settings.IMAGE_DIGEST in allowed
    return {"ok": ok, "image_digest": settings.IMAGE_DIGEST, "allowed": allowed}


@dataclass(frozen=True)
class Spend:
    """A resource's latest billed day and its EffectiveCost per BillingCurrency on that day;
    ``day`` None when the backend has no billing rows for it."""

    resource_id: str
    day: date | None
    by_currency: dict[str, Decimal]

    def as_json(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "latest_billed_day": self.day.isoformat() if self.day else None,
            "effective_cost": {c: str(v) for c, v in sorted(self.by_currency.items())},
        }


def recent_spend(settings: ExecutorSettings, resource_id: str) -> Spend:
    """The resource's spend on its latest billed day (see the module doc)."""
    params: dict[str, Any] = {"resource_id": resource_id, "limit": PAGE}
    resp = _get(settings, "/api/v1/costs", params)
    if resp.status_code == 404:
        return Spend(resource_id, None, {})
    page = resp.json()
    rows = page["data"]
    if page["count"] > PAGE:
        # Rows come ordered by day: the last page holds the latest day (a resource bills a
        # handful of rows a day, far fewer than a page).
        params["offset"] = page["count"] - PAGE
        rows = _get(settings, "/api/v1/costs", params).json()["data"]
    rows = [r for r in rows if r.get("ResourceId") == resource_id]
    if not rows:
        return Spend(resource_id, None, {})
    day = max(date.fromisoformat(str(r["ChargePeriodStart"])[:10]) for r in rows)
    totals: dict[str, Decimal] = {}
    for r in rows:
        if date.fromisoformat(str(r["ChargePeriodStart"])[:10]) == day:
            cur = str(r["BillingCurrency"])
            totals[cur] = totals.get(cur, Decimal(0)) + Decimal(str(r["EffectiveCost"]))
    return Spend(resource_id, day, totals)


def still_costly(spend: Spend, minimum: Decimal) -> bool | None:
    """True when the latest billed day cost more than ``minimum`` in some currency (each
    currency compared on its own); None when there is no billing for the resource."""
    if spend.day is None:
        return None
    return any(v > minimum for v in spend.by_currency.values())


def spend_rose(before: Spend, now: Spend) -> bool:
    """A newer billed day landed and costs more than the baseline day in some currency."""
    if before.day is None or now.day is None or now.day <= before.day:
        return False
    return any(v > before.by_currency.get(c, Decimal(0)) for c, v in now.by_currency.items())

"""``vultr``: Vultr's billing API v2 through httpx with the API key (Bearer).

Vultr bills monthly and exposes no daily cost, so daily spend is derived (docs/adapters):
- every invoice item (GET /v2/billing/invoices, then /invoices/{id}/items) covers
  ``[start_date, end_date)``; its ``total`` is spread evenly over the UTC days it covers;
- pending charges (GET /v2/billing/pending-charges, the month not yet invoiced) are spread the
  same way over their own period, so the current month is visible before the invoice.
The split is exact: each day gets total/n cut to 12 places and the last day the remainder, so
the days sum to the item's total. Vultr bills in USD. Pagination follows
``meta.links.next`` as the ``cursor`` parameter.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

import httpx
from costguard_core.errors import InputError
from costguard_core.models import CostRow
from pydantic import Field, SecretStr

from costguard_adapters.registry import Adapter, AdapterSettings, adapters, in_range

_STEP = Decimal("1e-12")


class VultrSettings(AdapterSettings):
    api_key: SecretStr = Field(title="API key", description="Vultr personal access token.")
    base_url: str = Field("https://api.vultr.com", title="API URL", description="Tests override.")
    include_pending: bool = Field(
        True, title="Pending charges", description="Also spread the not-yet-invoiced month."
    )


def spread(total: Decimal, start: date, end: date) -> list[tuple[date, Decimal]]:
    """``total`` over the UTC days in ``[start, end)`` (at least one day), summing exactly."""
    days = max((end - start).days, 1)
    share = (total / days).quantize(_STEP, rounding=ROUND_DOWN)
    out = [(start + timedelta(i), share) for i in range(days - 1)]
    out.append((start + timedelta(days - 1), total - share * (days - 1)))
    return out


def _utc_day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).date()


@adapters.register("vultr")
class VultrAdapter(Adapter):
    """Daily Vultr spend derived from invoice items and pending charges."""

    Settings = VultrSettings

    def _get(self, client: httpx.Client, path: str, key: str) -> Iterator[dict[str, Any]]:
        params: dict[str, str] = {"per_page": "500"}
        while True:
            resp = client.get(path, params=params)
            resp.raise_for_status()
            body = resp.json()
            yield from body.get(key, [])
            cursor = (body.get("meta") or {}).get("links", {}).get("next")
            if not cursor:
                return
            params["cursor"] = cursor

    def _items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        s = self.settings
        assert isinstance(s, VultrSettings)
        headers = {"Authorization": f"Bearer {s.api_key.get_secret_value()}"}
        with httpx.Client(base_url=s.base_url, headers=headers, timeout=30) as client:
            for inv in self._get(client, "/v2/billing/invoices", "billing_invoices"):
                for item in self._get(
                    client, f"/v2/billing/invoices/{inv['id']}/items", "invoice_items"
                ):
                    yield str(inv["id"]), item
            if s.include_pending:
                for item in self._get(client, "/v2/billing/pending-charges", "pending_charges"):
                    yield "pending", item

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        sums: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        for invoice, item in self._items():
            try:
                total = Decimal(str(item["total"]))
                first, last = _utc_day(item["start_date"]), _utc_day(item["end_date"])
            except (KeyError, ValueError) as exc:
                raise InputError(
                    f"bad invoice item: {exc}",
                    path=f"vultr invoice {invoice}",
                    field="total/start_date/end_date",
                ) from exc
            for day, part in spread(total, first, last):
                sums[(day, item.get("product") or "Vultr")] += part
        return [
            CostRow(
                ChargePeriodStart=day,
                ProviderName="Vultr",
                ServiceName=product,
                ChargeCategory="Usage",
                BillingCurrency="USD",
                BilledCost=cost,
                EffectiveCost=cost,
            )
            for (day, product), cost in sorted(sums.items())
            if in_range(day, start, end)
        ]

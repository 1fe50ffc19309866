"""Consumption UsageDetails (azure-mgmt-consumption's ``usage_details.list``) to FOCUS daily rows.

An item is ``{"id", "kind": "legacy" | "modern", "tags": {...}, "properties": {...}}`` (REST
examples UsageDetailsListByMetricActualCost.json, UsageDetailsListByMCABillingAccount.json).
Its properties are mapped with the column table of the EA/MCA cost-details exports
(``costguard_core.focus.AZURE_CHARGE_CATEGORY`` / ``AZURE_SERVICE_CATEGORY``: same ChargeType
and ServiceFamily tables, same precedence of names), so an export and this API give the same
FOCUS rows. Money is read from the response text with ``json.loads(parse_float=Decimal)``:
the SDK parses JSON numbers into floats, so its models are used only to drive the request
and the nextLink paging.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from costguard_core.errors import InputError
from costguard_core.focus import AZURE_CHARGE_CATEGORY, AZURE_SERVICE_CATEGORY
from costguard_core.models import CostRow

#: The cost and currency fields of each kind (cost-details field reference: legacy = EA,
#: modern = MCA). ListCost is ``paygCostInBillingCurrency`` (modern only; legacy → null).
KINDS = {
    "legacy": {"cost": "cost", "currency": "billingCurrency"},
    "modern": {"cost": "costInBillingCurrency", "currency": "billingCurrencyCode"},
}


class RawPages:
    """A ``raw_response_hook`` keeping each response's items parsed with exact Decimals."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def __call__(self, pipeline_response: Any) -> None:
        http = pipeline_response.http_response
        if http.status_code == 204:  # no usage in the range: no body
            return
        if http.status_code == 200:
            body = json.loads(http.text(), parse_float=Decimal)
            self.items += body.get("value") or []


def list_usage(client: Any, scope: str, start: date, end: date, metric: str) -> list[dict]:
    """Every usage-detail item of ``scope`` with usage in ``[start, end]`` (UTC days), across
    nextLink pages (the SDK pager follows them), as the raw JSON objects (money as Decimal).

    Raises InputError if the SDK's items and the raw items differ (count or ids)."""
    raw = RawPages()
    flt = f"properties/usageStart ge '{start}' and properties/usageEnd le '{end}'"
    try:
        sdk_items = list(
            client.usage_details.list(
                scope.lstrip("/"), filter=flt, metric=metric, raw_response_hook=raw
            )
        )
    except json.JSONDecodeError:
        # The SDK reads a 204 (no usage) as JSON and fails on the empty body; nothing is lost.
        if raw.items:
            raise
        return []
    ids = [i.get("id") for i in raw.items]
    if [getattr(i, "id", None) for i in sdk_items] != ids:
        raise InputError("SDK items and response items differ", path=scope, field="value")
    return raw.items


def _first(props: dict[str, Any], *names: str) -> Any:
    for name in names:
        value: Any = props
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value not in (None, ""):
            return value
    return None


def _money(value: Any, where: Callable[[str, str], InputError], field: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise where(field, f"not a number: {value!r}")
    try:
        out = Decimal(value)
    except ArithmeticError as exc:
        raise where(field, f"not a number: {value!r}") from exc
    if not out.is_finite():
        raise where(field, f"not a number: {value!r}")
    return out


def usage_rows(items: Iterable[dict[str, Any]], scope: str) -> list[CostRow]:
    """Daily FOCUS rows of usage-detail items: one row per UTC day and leaf (account,
    subscription, service, region, resource, charge category, currency, tags), costs summed
    exactly in the item's billing currency (never converted). BilledCost = EffectiveCost = the
    cost of the metric asked for; ListCost = sum of paygCostInBillingCurrency, null for the day
    and leaf if any item lacks it.

    Raises InputError naming the scope, the item id and the field for an unknown ``kind``, a
    missing date, cost, currency or service, an unknown chargeType, or a non-number cost."""
    sums: dict[tuple, list[Any]] = {}
    for item in items:
        item_id = item.get("id") or item.get("name") or "?"

        def bad(field: str, why: str, item_id: str = item_id) -> InputError:
            return InputError(f"usage detail {item_id}: {why}", path=scope, field=field)

        kind = KINDS.get(item.get("kind"))  # type: ignore[arg-type]
        if kind is None:
            raise bad("kind", f"unknown kind {item.get('kind')!r} (known: legacy, modern)")
        p = item.get("properties") or {}
        day_text = str(p.get("date") or "")
        try:
            day = date.fromisoformat(day_text[:10])
        except ValueError as exc:
            raise bad("date", f"not an ISO date: {day_text!r}") from exc
        if p.get(kind["cost"]) is None:
            raise bad(kind["cost"], "missing")
        cost = _money(p[kind["cost"]], bad, kind["cost"])
        payg = p.get("paygCostInBillingCurrency")
        listed = None if payg is None else _money(payg, bad, "paygCostInBillingCurrency")
        currency = _first(p, kind["currency"])
        if not currency:
            raise bad(kind["currency"], "missing")
        service = _first(p, "meterCategory", "meterDetails.meterCategory", "consumedService")
        if not service:
            raise bad("meterCategory", "missing (no meterDetails.meterCategory or consumedService)")
        charge_type = p.get("chargeType")
        charge = "Usage" if charge_type is None else AZURE_CHARGE_CATEGORY.get(charge_type)
        if charge is None:
            raise bad("chargeType", f"unknown charge type {charge_type!r}")
        tags = item.get("tags") or {}
        if not isinstance(tags, dict):
            raise bad("tags", f"not an object: {tags!r}")
        key = (
            day,
            _first(p, "billingAccountId"),
            _first(p, "subscriptionId", "subscriptionGuid"),
            str(service),
            AZURE_SERVICE_CATEGORY.get(_first(p, "serviceFamily", "meterDetails.serviceFamily")),
            _first(p, "resourceLocation"),
            _first(p, "resourceId", "instanceId", "instanceName"),
            charge,
            str(currency),
            tuple(sorted((str(k), str(v)) for k, v in tags.items())),
        )
        acc = sums.setdefault(key, [Decimal(0), Decimal(0)])
        acc[0] += cost
        acc[1] = None if acc[1] is None or listed is None else acc[1] + listed
    return [
        CostRow(
            ChargePeriodStart=k[0],
            ProviderName="Microsoft",
            BillingAccountId=k[1],
            SubAccountId=k[2],
            ServiceName=k[3],
            ServiceCategory=k[4],
            RegionId=k[5],
            ResourceId=k[6],
            ChargeCategory=k[7],
            BillingCurrency=k[8],
            Tags=dict(k[9]),
            BilledCost=cost,
            EffectiveCost=cost,
            ListCost=listed,
        )
        for k, (cost, listed) in sums.items()
    ]

"""``aws-ce``: AWS Cost Explorer GetCostAndUsage through boto3, DAILY, grouped by service and
linked account, paginated with NextPageToken (API reference: docs.aws.amazon.com/
aws-cost-management/latest/APIReference/API_GetCostAndUsage.html).

Each group of each ResultsByTime period becomes one row: ServiceName from the SERVICE key,
SubAccountId from LINKED_ACCOUNT, a TAG key ``Env$prod`` becomes Tags {"Env": "prod"}, the
billed metric (default UnblendedCost) BilledCost and the effective one (default
NetAmortizedCost) EffectiveCost, in the metric's Unit (the currency; never converted).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import boto3
from costguard_core.errors import InputError
from costguard_core.models import CostRow
from pydantic import Field

from costguard_adapters.registry import Adapter, AdapterSettings, adapters


class CostExplorerSettings(AdapterSettings):
    region: str = Field("us-east-1", title="Region", description="Cost Explorer's API region.")
    endpoint_url: str | None = Field(
        None, title="Endpoint URL", description="Override for tests (moto) or a VPC endpoint."
    )
    billed_metric: str = Field(
        "UnblendedCost", title="Billed metric", description="Metric that becomes BilledCost."
    )
    effective_metric: str = Field(
        "NetAmortizedCost",
        title="Effective metric",
        description="Metric that becomes EffectiveCost (amortized, net of discounts).",
    )
    group_by: list[str] = Field(
        default_factory=lambda: ["SERVICE", "LINKED_ACCOUNT"],
        max_length=2,
        title="Group by",
        description="DIMENSION keys (at most two, the API's limit).",
    )
    lookback_days: int = Field(
        90, ge=1, title="First pull", description="Days pulled when no start is given."
    )


def _row(
    period: dict[str, Any],
    keys: list[str],
    group_by: list[str],
    metrics: dict,
    s: CostExplorerSettings,
) -> CostRow:
    dims: dict[str, Any] = {"ServiceName": "Total", "Tags": {}}
    for kind, key in zip(group_by, keys, strict=False):
        if "$" in key:  # a TAG group: "Env$prod"
            tag, _, value = key.partition("$")
            dims["Tags"][tag] = value
        elif kind == "SERVICE":
            dims["ServiceName"] = key
        elif kind == "LINKED_ACCOUNT":
            dims["SubAccountId"] = key
        elif kind == "REGION":
            dims["RegionId"] = key
    try:
        billed, effective = metrics[s.billed_metric], metrics[s.effective_metric]
    except KeyError as exc:
        raise InputError(
            f"Cost Explorer result lacks metric {exc.args[0]}",
            path="GetCostAndUsage",
            field=exc.args[0],
        ) from None
    if billed["Unit"] != effective["Unit"]:
        raise InputError("metrics in different units", path="GetCostAndUsage", field="Unit")
    return CostRow(
        ChargePeriodStart=date.fromisoformat(period["TimePeriod"]["Start"]),
        ProviderName="AWS",
        ChargeCategory="Usage",
        BillingCurrency=billed["Unit"],
        BilledCost=Decimal(billed["Amount"]),
        EffectiveCost=Decimal(effective["Amount"]),
        **dims,
    )


@adapters.register("aws-ce")
class CostExplorerAdapter(Adapter):
    """Daily AWS spend from Cost Explorer (boto3 ``ce`` client, default credential chain)."""

    Settings = CostExplorerSettings

    def _pages(self, start: date, end: date) -> Iterator[dict[str, Any]]:
        s = self.settings
        assert isinstance(s, CostExplorerSettings)
        ce = boto3.client("ce", region_name=s.region, endpoint_url=s.endpoint_url)
        request: dict[str, Any] = {
            # End is exclusive in the API, inclusive here.
            "TimePeriod": {"Start": start.isoformat(), "End": (end + timedelta(1)).isoformat()},
            "Granularity": "DAILY",
            "Metrics": sorted({s.billed_metric, s.effective_metric}),
            "GroupBy": [{"Type": "DIMENSION", "Key": k} for k in s.group_by],
        }
        while True:
            page = ce.get_cost_and_usage(**request)
            yield page
            token = page.get("NextPageToken")
            if not token:
                return
            request["NextPageToken"] = token

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        s = self.settings
        assert isinstance(s, CostExplorerSettings)
        end = end or date.today()
        start = start or end - timedelta(s.lookback_days)
        for page in self._pages(start, end):
            group_by = [g["Key"] for g in page.get("GroupDefinitions") or []] or s.group_by
            for period in page.get("ResultsByTime", []):
                if period.get("Groups"):
                    for group in period["Groups"]:
                        yield _row(period, group["Keys"], group_by, group["Metrics"], s)
                elif period.get("Total"):
                    yield _row(period, [], [], period["Total"], s)

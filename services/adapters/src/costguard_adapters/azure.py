"""``azure``: the Cost Management Query API (azure-mgmt-costmanagement with azure-identity's
DefaultAzureCredential), daily ActualCost grouped by ServiceName and ResourceGroup; or with
``api: cost_details`` the Cost Details API (Generate Cost Details Report, one report per calendar
month, its CSV blobs read like exports; :mod:`costguard_adapters.azure_cost_details`); or with
``api: usage_details`` the Consumption UsageDetails list (azure-mgmt-consumption; mapping in
:mod:`costguard_adapters.azure_usage`); plus exported CSVs (EA/MCA actual or amortized cost
details, FocusCost) read by the core reader.

A query result row is ``[PreTaxCost, UsageDate (yyyymmdd int), ServiceName, ResourceGroup,
Currency]`` (columns named in ``result.columns``; REST example BillingAccountQuery.json).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from costguard_core.errors import InputError
from costguard_core.models import CostRow
from pydantic import Field

from costguard_adapters.azure_cost_details import METRICS, cost_details_rows
from costguard_adapters.azure_usage import list_usage, usage_rows
from costguard_adapters.registry import (
    Adapter,
    ReadSettings,
    adapters,
    in_range,
    read_exports,
)


class AzureSettings(ReadSettings):
    scope: str | None = Field(
        None,
        title="Scope",
        description="e.g. /subscriptions/<id> or "
        "/providers/Microsoft.Billing/billingAccounts/<id>; unset = exports only.",
    )
    cost_type: str = Field(
        "ActualCost",
        title="Cost type",
        description="ActualCost or AmortizedCost (Query API 'type'; Cost Details 'metric'; "
        "UsageDetails 'metric' actualcost or amortizedcost).",
    )
    api: Literal["query", "cost_details", "usage_details"] = Field(
        "query",
        title="API",
        description="query: Cost Management Query API, daily totals by ServiceName and "
        "ResourceGroup. cost_details: Cost Details API (Generate Cost Details Report; EA and "
        "MCA; one report per calendar month), its CSV files read like the cost-details "
        "exports. usage_details: Consumption UsageDetails (EA 'legacy' or MCA 'modern' "
        "items, an API Microsoft is retiring in favour of cost_details), mapped like the "
        "cost-details exports.",
    )
    export_paths: list[str] = Field(
        default_factory=list,
        title="Exported CSVs",
        description="Cost details or FocusCost export files.",
    )
    base_url: str | None = Field(
        None, title="ARM endpoint", description="Override of https://management.azure.com (tests)."
    )
    lookback_days: int = Field(30, ge=1, title="First pull", description="Days when no start.")


def _query_rows(result: Any, scope: str) -> Iterable[CostRow]:
    if getattr(result, "next_link", None):
        # The SDK does not follow nextLink; refusing beats silently dropping later pages.
        raise InputError("query result has more pages (nextLink); pull a shorter range", path=scope)
    names = [c.name for c in result.columns]
    for i, raw in enumerate(result.rows):
        rec = dict(zip(names, raw, strict=True))
        try:
            cost = Decimal(str(rec["PreTaxCost"] if "PreTaxCost" in rec else rec["Cost"]))
            day = datetime.strptime(str(rec["UsageDate"]), "%Y%m%d").date()
        except (KeyError, ValueError) as exc:
            raise InputError(f"bad query row: {exc}", path=scope, row=i + 1) from exc
        yield CostRow(
            ChargePeriodStart=day,
            ProviderName="Microsoft",
            BillingAccountId=None,
            SubAccountId=scope.split("/")[2] if scope.startswith("/subscriptions/") else None,
            ServiceName=rec.get("ServiceName") or "Unassigned",
            ChargeCategory="Usage",
            BillingCurrency=rec["Currency"],
            BilledCost=cost,
            EffectiveCost=cost,
            Tags={"ResourceGroup": rec["ResourceGroup"]} if rec.get("ResourceGroup") else {},
        )


@adapters.register("azure")
class AzureAdapter(Adapter):
    """Azure spend from the Query, Cost Details or UsageDetails API and/or exported CSVs.

    ``client_kw`` go to the SDK client (e.g. ``polling_interval``: seconds between Cost Details
    polls when a 202 carries no Retry-After; the SDK's default is 30)."""

    Settings = AzureSettings

    def __init__(self, settings: AzureSettings, credential: Any = None, **client_kw: Any) -> None:
        super().__init__(settings)
        self._credential, self._client_kw = credential, client_kw

    def _cost_client(self) -> Any:
        from azure.mgmt.costmanagement import CostManagementClient

        s = self.settings
        assert isinstance(s, AzureSettings)
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        kw = dict(self._client_kw)
        if s.base_url:
            kw["base_url"] = s.base_url
        return CostManagementClient(self._credential, **kw)

    def _query(self, start: date, end: date) -> Any:
        from azure.mgmt.costmanagement.models import (
            QueryAggregation,
            QueryDataset,
            QueryDefinition,
            QueryGrouping,
            QueryTimePeriod,
        )

        s = self.settings
        assert isinstance(s, AzureSettings) and s.scope
        client = self._cost_client()
        definition = QueryDefinition(
            type=s.cost_type,
            timeframe="Custom",
            time_period=QueryTimePeriod(
                from_property=datetime.combine(start, time()),
                to=datetime.combine(end, time(23, 59, 59)),
            ),
            dataset=QueryDataset(
                granularity="Daily",
                aggregation={"totalCost": QueryAggregation(name="PreTaxCost", function="Sum")},
                grouping=[
                    QueryGrouping(type="Dimension", name="ServiceName"),
                    QueryGrouping(type="Dimension", name="ResourceGroup"),
                ],
            ),
        )
        return client.query.usage(s.scope, definition)

    def _cost_details(self, start: date, end: date) -> list[CostRow]:
        s = self.settings
        assert isinstance(s, AzureSettings) and s.scope
        metric = METRICS.get(s.cost_type.lower())
        if metric is None:
            raise InputError(
                f"{s.cost_type!r} is not ActualCost or AmortizedCost", field="cost_type"
            )
        return cost_details_rows(
            self._cost_client(),
            s.scope,
            metric,
            start,
            end,
            lenient=s.lenient,
            max_bad_rows=s.max_bad_rows,
        )

    def _usage_details(self, start: date, end: date) -> list[CostRow]:
        from azure.mgmt.consumption import ConsumptionManagementClient

        s = self.settings
        assert isinstance(s, AzureSettings) and s.scope
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        parts = s.scope.strip("/").split("/")
        # usage_details.list takes the scope; the client's subscription is for other operations.
        sub = parts[1] if parts[0].lower() == "subscriptions" and len(parts) > 1 else ""
        client = ConsumptionManagementClient(
            self._credential, sub, base_url=s.base_url, **self._client_kw
        )
        metric = s.cost_type.lower()
        if metric not in ("actualcost", "amortizedcost"):
            raise InputError(
                f"{s.cost_type!r} is not ActualCost or AmortizedCost", field="cost_type"
            )
        return usage_rows(list_usage(client, s.scope, start, end, metric), s.scope)

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        s = self.settings
        assert isinstance(s, AzureSettings)
        rows: list[CostRow] = []
        if s.scope:
            q_end = end or date.today()
            q_start = start or q_end - timedelta(s.lookback_days)
            if s.api == "usage_details":
                rows += self._usage_details(q_start, q_end)
            elif s.api == "cost_details":
                rows += self._cost_details(q_start, q_end)
            else:
                rows += _query_rows(self._query(q_start, q_end), s.scope)
        if s.export_paths:
            rows += read_exports(s.export_paths, lenient=s.lenient, max_bad_rows=s.max_bad_rows)
        return [r for r in rows if in_range(r.ChargePeriodStart, start, end)]

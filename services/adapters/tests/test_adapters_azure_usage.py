"""``azure`` with ``api: usage_details``: azure-mgmt-consumption's ``usage_details.list``
against a local server replaying the REST examples of ../shared/data/azure_rest_api_examples
(consumption_UsageDetailsListByMetricActualCost.json: legacy/EA, CAD;
consumption_UsageDetailsListByMCABillingAccount.json: modern/MCA). Per-day totals reconcile to
the cent (exactly) with sums computed here from the JSON text."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from costguard_adapters.registry import load_all
from costguard_core.errors import InputError

adapters = load_all()
EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "data" / "azure_rest_api_examples"
LEGACY = "consumption_UsageDetailsListByMetricActualCost.json"
MODERN = "consumption_UsageDetailsListByMCABillingAccount.json"
COST = {
    "legacy": ("cost", "billingCurrency"),
    "modern": ("costInBillingCurrency", "billingCurrencyCode"),
}


class _Token:
    def get_token(self, *scopes, **kw) -> AccessToken:
        return AccessToken("test-token", 2_000_000_000)


def body(name: str) -> dict:
    """The example's 200 body, numbers as Decimal (exactly the file's text)."""
    example = json.loads((EXAMPLES / name).read_text(), parse_float=Decimal)
    return example["responses"]["200"]["body"]


def exact(obj: object) -> str:
    """JSON text with every Decimal written as its exact digits (json.dumps cannot)."""
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{exact(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ",".join(exact(v) for v in obj) + "]"
    return json.dumps(obj)


def want_days(items: list[dict]) -> dict[tuple[str, str], Decimal]:
    want: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for item in items:
        cost, currency = COST[item["kind"]]
        p = item["properties"]
        want[(p["date"][:10], p[currency])] += p[cost]
    return dict(want)


def got_days(rows) -> dict[tuple[str, str], Decimal]:
    got: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in rows:
        got[(r.ChargePeriodStart.isoformat(), r.BillingCurrency)] += r.BilledCost
    return dict(got)


def adapter(url: str, scope: str, **settings):
    cls = adapters.get("azure")
    return cls(
        cls.Settings(scope=scope, base_url=url, api="usage_details", **settings),
        credential=_Token(),
        authentication_policy=SansIOHTTPPolicy(),
    )


@pytest.mark.parametrize("name", [LEGACY, MODERN])
def test_usage_details_examples_reconcile(http_server, name: str) -> None:
    page = body(name)
    seen: list[str] = []

    def handle(method: str, path: str, raw: bytes):
        seen.append(path)
        return 200, exact(page).encode()

    scope = "/" + json.loads((EXAMPLES / name).read_text())["parameters"]["scope"]
    rows = list(adapter(http_server(handle), scope).pull(date(2019, 1, 1), date(2019, 12, 31)))
    assert got_days(rows) == want_days(page["value"]) and rows
    url = urlparse(seen[0])
    query = parse_qs(url.query)
    assert url.path == scope + "/providers/Microsoft.Consumption/usageDetails"
    assert query["metric"] == ["actualcost"]
    assert query["$filter"] == [
        "properties/usageStart ge '2019-01-01' and properties/usageEnd le '2019-12-31'"
    ]
    (row,) = rows
    assert row.BilledCost == row.EffectiveCost
    assert row.Tags == {"env": "newcrp", "dev": "tools"} and row.ChargeCategory == "Usage"
    assert row.SubAccountId == "00000000-0000-0000-0000-000000000000"
    if name == LEGACY:
        assert (row.BillingCurrency, row.BilledCost) == ("CAD", Decimal("0.000001968949998"))
        assert row.ServiceName == "Microsoft.ClassicStorage"  # meterDetails is null
        assert row.RegionId == "uswest" and row.ListCost is None
        assert row.ResourceId.endswith("/storageAccounts/ResourceName1")
    else:
        assert (row.BillingCurrency, row.BilledCost) == ("USD", Decimal("1.84763819095477"))
        assert row.ListCost == Decimal("1.848") and row.ServiceName == "Microsoft.Storage"
        assert row.ResourceId.endswith("/storageAccounts/Resource Name 1")


def test_usage_details_two_pages_exact(http_server) -> None:
    """nextLink paging through the SDK; a cost with more digits than a float holds stays exact,
    and two items of one day and leaf are summed into one row."""
    first, second = body(LEGACY), body(LEGACY)
    item = second["value"][0]
    extra = copy.deepcopy(item)  # page 2, same day and leaf as page 1's item
    extra["id"] = item["id"].replace("Id1", "Id2")
    extra["properties"]["cost"] = Decimal("0.12345678901234567890123")
    later = [copy.deepcopy(item), copy.deepcopy(item)]  # next day, a charge and a correction
    for n, (cost, one) in enumerate(zip(("10.01", "-0.02"), later, strict=True)):
        one["id"] = item["id"].replace("Id1", f"Id{n + 3}")
        one["properties"].update(cost=Decimal(cost), date="2019-04-10T00:00:00.0000000Z")
    second["value"] = [extra, *later]
    seen: list[str] = []

    def handle(method: str, path: str, raw: bytes):
        seen.append(path)
        if "skiptoken" not in path:
            first["nextLink"] = f"{url}{urlparse(path).path}?$skiptoken=page2&api-version=x"
            return 200, exact(first).encode()
        return 200, exact(second).encode()

    url = http_server(handle)
    rows = list(adapter(url, "/subscriptions/s1").pull(date(2019, 4, 1), date(2019, 4, 30)))
    assert len(seen) == 2 and parse_qs(urlparse(seen[1]).query)["$skiptoken"] == ["page2"]
    assert got_days(rows) == want_days(first["value"] + second["value"])
    assert got_days(rows)[("2019-04-09", "CAD")] == Decimal("0.12345875796234367890123")
    assert got_days(rows)[("2019-04-10", "CAD")] == Decimal("9.99")
    assert len(rows) == 2  # one row per day and leaf


def test_usage_details_unknown_kind_names_item_and_field(http_server) -> None:
    page = body(MODERN)
    page["value"][0]["kind"] = "future"
    url = http_server(lambda m, p, b: (200, exact(page).encode()))
    with pytest.raises(InputError, match=r"field kind: usage detail .*usageDetails_Id1.*'future'"):
        list(adapter(url, "/subscriptions/s1").pull(date(2019, 10, 1), date(2019, 10, 31)))


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("costInBillingCurrency", None, "field costInBillingCurrency: .* missing"),
        ("costInBillingCurrency", "abc", "field costInBillingCurrency: .*not a number"),
        ("chargeType", "Mystery", "field chargeType: .*unknown charge type 'Mystery'"),
        ("date", "30/10/2019", "field date: .*not an ISO date"),
    ],
)
def test_usage_details_bad_item(http_server, field: str, value: object, match: str) -> None:
    page = body(MODERN)
    page["value"][0]["properties"][field] = value
    url = http_server(lambda m, p, b: (200, exact(page).encode()))
    with pytest.raises(InputError, match=match):
        list(adapter(url, "/subscriptions/s1").pull(date(2019, 10, 1), date(2019, 10, 31)))


def test_usage_details_204_is_no_usage(http_server) -> None:
    url = http_server(lambda m, p, b: (204, b""))
    assert list(adapter(url, "/subscriptions/s1").pull(date(2019, 10, 1), date(2019, 10, 2))) == []


def test_usage_details_amortized_metric_and_bad_cost_type(http_server) -> None:
    seen: list[str] = []
    url = http_server(lambda m, p, b: (seen.append(p), (200, {"value": []}))[1])
    a = adapter(url, "/subscriptions/s1", cost_type="AmortizedCost")
    assert list(a.pull(date(2019, 10, 1), date(2019, 10, 2))) == []
    assert parse_qs(urlparse(seen[0]).query)["metric"] == ["amortizedcost"]
    with pytest.raises(InputError, match="cost_type"):
        list(adapter(url, "/subscriptions/s1", cost_type="Usage").pull(None, None))

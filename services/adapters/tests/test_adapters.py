"""Every adapter through its real SDK: boto3 against moto, google-cloud-bigquery,
azure-mgmt-costmanagement and httpx against local servers replaying the documented responses
in ../shared/data. Totals reconcile exactly with sums computed here from the same JSON."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import boto3
import duckdb
import pytest
import requests
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from costguard_adapters.gcp_sql import DUCKDB_MACRO, daily_sql
from costguard_adapters.registry import load_all
from costguard_core.errors import InputError
from moto import mock_aws

adapters = load_all()
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
CE_QUEUE = "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results"


def test_every_adapter_is_registered_with_documented_settings() -> None:
    want = {"aws-ce", "aws-cur", "azure", "file", "focus", "gcp-bigquery", "llm-usage", "vultr"}
    assert set(adapters.names()) == want
    for name in want:
        props = adapters.get(name).Settings.model_json_schema()["properties"]
        assert props["restatement_days"]["title"]
        assert all(p.get("title") and p.get("description") for p in props.values()), name


@pytest.mark.parametrize(
    ("sample", "metric"),
    [
        ("hms_dbmi_get_cost_and_usage_daily_byUser.json", "BlendedCost"),
        ("hms_dbmi_get_cost_and_usage_daily_none.json", "BlendedCost"),
        # byEnv maps a user to one response each (#key picks it).
        ("hms_dbmi_get_cost_and_usage_daily_byEnv.json#user-1", "BlendedCost"),
        ("hms_dbmi_get_cost_and_usage_daily_byEnv.json#user-2", "BlendedCost"),
        ("hms_dbmi_get_cost_and_usage_daily_byEnv.json#user-6", "BlendedCost"),
        ("cloudscape_get_cost_and_usage_monthly_by_service.json", "UnblendedCost"),
        ("awscli_example_get_cost_and_usage.json", "UnblendedCost"),
    ],
)
@mock_aws
def test_aws_ce_pages_through_moto(sample: str, metric: str) -> None:
    name, _, key = sample.partition("#")
    page = json.loads((SHARED / "aws_cost_explorer" / name).read_text())
    page = page[key] if key else page
    # Split the sample in two pages joined by NextPageToken, to exercise pagination.
    periods = page["ResultsByTime"]
    first = {**page, "ResultsByTime": periods[: len(periods) // 2], "NextPageToken": "p2"}
    second = {**page, "ResultsByTime": periods[len(periods) // 2 :]}
    requests.post(CE_QUEUE, json={"results": [first, second]}, timeout=10).raise_for_status()
    want: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for period in periods:
        metrics = [g["Metrics"] for g in period.get("Groups") or []] or (
            [period["Total"]] if period.get("Total") else []
        )
        for group in metrics:
            m = group[metric]
            want[(period["TimePeriod"]["Start"], m["Unit"])] += Decimal(m["Amount"])
    adapter = adapters.build(
        "aws-ce", {"billed_metric": metric, "effective_metric": metric, "group_by": ["SERVICE"]}
    )
    rows = list(adapter.pull(date(2017, 1, 1), date(2024, 12, 31)))
    got: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in rows:
        got[(r.ChargePeriodStart.isoformat(), r.BillingCurrency)] += r.BilledCost
    assert got == want
    if "byUser" in sample:
        assert {r.Tags.get("CreatedBy") for r in rows} >= {"user-1", "user-2"}


@mock_aws
def test_aws_cur_from_s3_bucket(tmp_path) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="cur")
    src = SHARED / "focus_converters" / "aws_cur_sample_anonymous.csv"
    s3.upload_file(str(src), "cur", "exports/2023-11/part-1.csv")
    s3.upload_file(str(SHARED / "koku/aws/2023-06-01.csv"), "cur", "exports/2023-06/a.csv")
    s3.put_object(Bucket="cur", Key="exports/2023-11/Manifest.json", Body=b"{}")
    rows = list(adapters.build("aws-cur", {"bucket": "cur", "prefix": "exports/"}).pull(None, None))
    from_disk = adapters.build("aws-cur", {"paths": [str(src)]}).pull(None, None)
    usd = sum(r.BilledCost for r in rows if r.BillingCurrency == "USD")
    assert usd == sum(r.BilledCost for r in from_disk)
    assert {r.BillingCurrency for r in rows} == {"USD", "NOK"}  # never summed together


def _bigquery_server(http_server, table_sql: str):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(DUCKDB_MACRO)
    con.execute(table_sql)
    seen = []

    def handle(method: str, path: str, body: bytes):
        req = json.loads(body or b"{}")
        assert method == "POST" and urlparse(path).path.endswith("/queries"), path  # jobs.query
        seen.append(req)
        assert req["query"] == daily_sql("p.billing.gcp_billing_export_v1_X", "bigquery")
        params = {p["name"]: p["parameterValue"]["value"] for p in req["queryParameters"]}
        result = con.execute(daily_sql("t", "duckdb"), params)
        names = [d[0] for d in result.description]
        rows = result.fetchall()
        types = {"day": "DATE"}
        return 200, {
            "kind": "bigquery#queryResponse",
            "jobReference": {"projectId": "p", "jobId": "job1", "location": "US"},
            "jobComplete": True,
            "totalRows": str(len(rows)),
            "schema": {"fields": [{"name": n, "type": types.get(n, "STRING")} for n in names]},
            "rows": [{"f": [{"v": None if v is None else str(v)} for v in r]} for r in rows],
        }

    return http_server(handle), seen


def test_gcp_bigquery_sql_pushdown_over_real_export_rows(http_server) -> None:
    ndjson = SHARED / "gcp_billing_elastic" / "test-data.ndjson"
    cols = (
        "{'billing_account_id':'VARCHAR','service':'STRUCT(id VARCHAR, description VARCHAR)',"
        "'project':'STRUCT(id VARCHAR)','location':'STRUCT(region VARCHAR)',"
        "'usage_start_time':'TIMESTAMPTZ','cost':'VARCHAR','currency':'VARCHAR',"
        "'cost_type':'VARCHAR','credits':'STRUCT(name VARCHAR, amount VARCHAR)[]'}"
    )
    url, seen = _bigquery_server(
        http_server,
        f"CREATE TABLE t AS SELECT * FROM read_json('{ndjson}', "
        f"format='newline_delimited', columns={cols})",
    )
    settings = {
        "project": "p",
        "table": "p.billing.gcp_billing_export_v1_X",
        "api_endpoint": url,
        "anonymous": True,
    }
    rows = list(adapters.build("gcp-bigquery", settings).pull(date(1970, 1, 1), date(1970, 1, 2)))
    want = sum(Decimal(json.loads(line)["cost"]) for line in ndjson.read_text().splitlines())
    assert sum(r.BilledCost for r in rows) == want == Decimal("484.367401")
    assert seen and rows[0].ServiceName == "Support"


class _Token:
    def get_token(self, *scopes, **kw) -> AccessToken:
        return AccessToken("test-token", 2_000_000_000)


def test_azure_query_api_and_exports(http_server) -> None:
    example = json.loads(
        (
            SHARED / "azure_rest_api_examples/costmanagement_BillingAccountQuery_daily.json"
        ).read_text()
    )
    body = example["responses"]["200"]["body"]
    requests_seen = []

    def handle(method: str, path: str, raw: bytes):
        requests_seen.append((method, path, json.loads(raw)))
        answer = json.loads(json.dumps(body))
        answer["properties"].pop("nextLink")
        return 200, answer

    url = http_server(handle)
    export = str(SHARED / "azure_finops_toolkit/EA_ActualCost_Small.csv")
    adapter = adapters.get("azure")(
        adapters.get("azure").Settings(
            scope="/subscriptions/s1", base_url=url, export_paths=[export]
        ),
        credential=_Token(),
        authentication_policy=SansIOHTTPPolicy(),
    )
    rows = list(adapter.pull(date(2018, 3, 1), date(2023, 12, 31)))
    method, path, sent = requests_seen[0]
    assert method == "POST" and urlparse(path).path.endswith("Microsoft.CostManagement/query")
    assert sent["dataset"]["granularity"] == "Daily"
    assert [g["name"] for g in sent["dataset"]["grouping"]] == ["ServiceName", "ResourceGroup"]
    queried = [r for r in rows if r.ChargePeriodStart == date(2018, 3, 31)]
    assert sum(r.BilledCost for r in queried) == sum(
        Decimal(str(row[0])) for row in body["properties"]["rows"]
    )
    assert any(r.ChargePeriodStart.year == 2023 for r in rows)


def test_azure_next_link_is_refused_not_dropped(http_server) -> None:
    example = json.loads(
        (
            SHARED / "azure_rest_api_examples/costmanagement_BillingAccountQuery_daily.json"
        ).read_text()
    )
    url = http_server(lambda m, p, b: (200, example["responses"]["200"]["body"]))
    adapter = adapters.get("azure")(
        adapters.get("azure").Settings(scope="/subscriptions/s1", base_url=url),
        credential=_Token(),
        authentication_policy=SansIOHTTPPolicy(),
    )
    with pytest.raises(InputError, match="nextLink"):
        list(adapter.pull(date(2018, 3, 1), date(2018, 3, 31)))


def test_vultr_invoices_items_and_pending_charges(http_server, caplog) -> None:
    vultr = SHARED / "vultr"
    files = {
        "/v2/billing/invoices": "govultr_fixture_billing_invoices.json",
        "/v2/billing/invoices/123456/items": "govultr_fixture_billing_invoices_123456_items.json",
        "/v2/billing/pending-charges": "govultr_fixture_billing_pending_charges.json",
        "/v2/billing/history": "govultr_fixture_billing_history.json",
        "/v2/account": "openapi_example_account.json",  # govultr has no account fixture
    }
    auth = []

    def handle(method: str, path: str, body: bytes):
        parsed = urlparse(path)
        auth.append(parse_qs(parsed.query))
        data = json.loads((vultr / files[parsed.path]).read_text())
        if parsed.path == "/v2/billing/invoices":
            data["billing_invoices"][0]["id"] = 123456  # the fixture's items belong to 123456
        if parsed.path == "/v2/billing/history":  # the history's invoice is the same one
            data["billing_history"][0]["id"] = 123456
        return 200, data

    url = http_server(handle)
    caplog.set_level("WARNING", logger="costguard.adapters")
    rows = list(adapters.build("vultr", {"api_key": "k", "base_url": url}).pull(None, None))
    want = sum(
        Decimal(str(i["total"]))
        for name in files.values()
        for key in ("invoice_items", "pending_charges")
        for i in json.loads((vultr / name).read_text()).get(key, [])
    )
    assert want == Decimal("12.35")
    # The history holds the invoice only (counted through its items): no credit, no row.
    assert sum(r.BilledCost for r in rows) == want
    compute = [r for r in rows if r.ServiceName == "Vultr Cloud Compute"]
    assert len(compute) == 14  # 2018-03-18 .. 2018-03-31, the item's UTC days
    assert {r.ResourceId for r in compute} == {"1.1.1.1 (1024 MB)"}
    assert {r.ResourceId for r in rows if r.ServiceName == "Load Balancer"} == {
        "Load Balancer (my-loadbalancer)"
    }
    # The history's invoice amount (2.35) equals its items: no warning about it. The account
    # example (60.25 pending) is not the pending fixture (10): a warning names both.
    warnings = [r.getMessage() for r in caplog.records]
    assert not [w for w in warnings if "billing history" in w]
    assert [w for w in warnings if "pending_charges 60.25" in w and "10.00" in w]


def test_llm_usage_file_priced_from_table(tmp_path) -> None:
    path = tmp_path / "usage.jsonl"
    path.write_text(
        '{"day":"2025-01-02","provider":"openai","model":"gpt-4o-mini-2024-07-18",'
        '"input_tokens":1000000,"output_tokens":500000,"requests":10}\n'
        '{"day":"2025-01-02","provider":"anthropic","model":"x","cost":"1.25"}\n'
    )
    rows = list(adapters.build("llm-usage", {"paths": [str(path)]}).pull(None, None))
    by_model = {r.ResourceId: r for r in rows}
    assert by_model["gpt-4o-mini-2024-07-18"].BilledCost == Decimal("0.45")
    assert by_model["x"].BilledCost == Decimal("1.25")
    assert {r.ServiceCategory for r in rows} == {"AI and Machine Learning"}
    path.write_text('{"day":"2025-01-02","provider":"acme","model":"m","input_tokens":5}\n')
    with pytest.raises(InputError, match="not in the price table"):
        list(adapters.build("llm-usage", {"paths": [str(path)]}).pull(None, None))


def test_focus_adapter_refuses_other_formats() -> None:
    cur = str(SHARED / "focus_converters" / "aws_cur_sample_anonymous.csv")
    with pytest.raises(InputError, match="not a FOCUS file"):
        list(adapters.build("focus", {"paths": [cur]}).pull(None, None))
    focus = str(SHARED / "focus_sample_data" / "focus_sample_1000.csv")
    assert list(adapters.build("focus", {"paths": [focus]}).pull(None, None))


@pytest.mark.parametrize(
    ("adapter", "sample"),
    [
        ("file", "koku/aws/test_cur.csv"),
        ("aws-cur", "koku/aws/test_cur.csv"),
        ("azure", "koku/azure/camel_azure_version_2.csv"),
    ],
)
def test_file_adapters_lenient_setting(adapter: str, sample: str, caplog) -> None:
    """``lenient: true`` reads a malformed export, logs each repair naming the file, and the
    days reconcile with DuckDB's own sniffing read of the file; the default stays strict."""
    path = str(SHARED / sample)
    key = "export_paths" if adapter == "azure" else "paths"
    cls = adapters.get(adapter)
    assert cls.Settings.model_validate({key: [path]}).lenient is False  # strict by default
    with pytest.raises(InputError, match=r"expected 131 fields|mixed CRLF and LF"):
        list(adapters.build(adapter, {key: [path]}).pull(None, None))
    with caplog.at_level("WARNING", logger="costguard.adapters"):
        rows = list(adapters.build(adapter, {key: [path], "lenient": True}).pull(None, None))
    assert any(
        "lenient read repaired" in r.getMessage() and path in r.getMessage() for r in caplog.records
    ), caplog.text
    want: dict[date, Decimal] = defaultdict(Decimal)
    frame = duckdb.sql(
        f"SELECT * FROM read_csv('{path}', null_padding=true, all_varchar=true, strict_mode=false)"
    ).df()
    day_col, cost_col = (
        ("lineItem/UsageStartDate", "lineItem/UnblendedCost")
        if "aws" in sample
        else ("date", "costInBillingCurrency")
    )
    for day, cost in zip(frame[day_col], frame[cost_col], strict=True):
        parsed = (
            date.fromisoformat(day[:10])
            if "-" in day[:10]
            else date(int(day[6:10]), int(day[:2]), int(day[3:5]))
        )
        want[parsed] += Decimal(cost)
    got: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        got[row.ChargePeriodStart] += row.BilledCost
    assert dict(got) == dict(want)

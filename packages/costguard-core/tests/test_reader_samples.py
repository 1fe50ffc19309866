"""Every billing-export CSV sample in ../shared/data is read, and its per-day totals reconcile to
the cent (here: exactly) with sums computed independently from the file with Python's csv module.

Samples that are malformed upstream fail in strict mode with an error naming the file and row
(never a partial read): see docs/adapters/README.md "Samples in ../shared/data". Three are read
in lenient mode (a missing trailing column, mixed line endings, a non-ISO currency kept as given)
and one more with ``max_bad_rows=2`` (two unreadable rows set aside and listed); all reconcile.
The repairs themselves are tested in test_reader_lenient.py and test_reader_quarantine.py.
``test_every_sample_is_accounted_for`` checks that no sample file is left out of this list.
"""

from __future__ import annotations

import ast
import csv
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from costguard_core.errors import InputError
from costguard_core.focus import DAILY_COLUMNS, read_daily

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")

Sums = dict[tuple[date, str], Decimal]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _day(text: str) -> date:
    text = text.strip()
    if re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", text):
        return datetime.strptime(text, "%m/%d/%Y").date()
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (stamp.astimezone(UTC) if stamp.tzinfo else stamp).date()


def _pick(rec: dict[str, str], *names: str) -> str:
    lower = {k.lower(): v for k, v in rec.items()}
    return next(lower[n.lower()] for n in names if n.lower() in lower)


def _azure(path: Path) -> Sums:
    sums: Sums = defaultdict(Decimal)
    for r in _rows(path):
        day = _day(_pick(r, "Date", "UsageDateTime"))
        cur = _pick(r, "BillingCurrencyCode", "BillingCurrency", "Currency")
        sums[(day, cur)] += Decimal(_pick(r, "CostInBillingCurrency", "Cost", "PreTaxCost"))
    return sums


def _oci(path: Path) -> Sums:
    rows = _rows(path)
    file_currency = next(r["cost/currencyCode"] for r in rows if r["cost/currencyCode"])
    sums: Sums = defaultdict(Decimal)
    for r in rows:
        cur = r["cost/currencyCode"] or file_currency
        sums[(_day(r["lineItem/intervalUsageStart"]), cur)] += Decimal(r["cost/myCost"])
    return sums


def _gcp(path: Path) -> Sums:
    sums: Sums = defaultdict(Decimal)
    for r in _rows(path):
        credits = ast.literal_eval(r["credits"]) if r["credits"] else []
        net = Decimal(r["cost"]) + sum((Decimal(repr(c["amount"])) for c in credits), Decimal(0))
        sums[(_day(r["usage_start_time"]), r["currency"])] += net
    return sums


def _gcp_legacy(path: Path) -> Sums:
    sums: Sums = defaultdict(Decimal)
    for r in _rows(path):
        credits = [Decimal(v) for k, v in r.items() if k.endswith(" Amount") and v]
        sums[(_day(r["Start Time"]), r["Currency"])] += Decimal(r["Cost"]) + sum(credits)
    return sums


def _cur(path: Path, skip: frozenset[int] = frozenset()) -> Sums:
    """Per day and currency; ``skip``: CSV row numbers (header = 1) left out."""
    sums: Sums = defaultdict(Decimal)
    for rn, r in enumerate(_rows(path), start=2):
        if rn in skip:
            continue
        get = r.get
        start = get("lineItem/UsageStartDate") or get("line_item_usage_start_date")
        cur = get("lineItem/CurrencyCode") or get("line_item_currency_code")
        cost = get("lineItem/UnblendedCost") or get("line_item_unblended_cost")
        sums[(_day(start), cur)] += Decimal(cost)
    return sums


CASES: list[tuple[str, str, Callable[[Path], Sums]]] = [
    ("azure_finops_toolkit/EA_ActualCost_Small.csv", "azure", _azure),
    ("azure_finops_toolkit/EA_AmortizedCost_Small.csv", "azure", _azure),
    ("focus_converters/azure_ea_export_sample_anonymous.csv", "azure", _azure),
    ("koku/azure/azure_camelCased.csv", "azure", _azure),
    ("koku/azure/costreport_a243c6f2-199f-4074-9a2c-40e671cf1584.csv", "azure", _azure),
    ("focus_converters/oci_cost_report_sample.csv", "oci", _oci),
    ("koku/oci/reports_cost-csv_0001000000603747.csv", "oci", _oci),
    ("koku/gcp/tmp_example_2020-10.csv", "gcp", _gcp),
    ("koku/gcp/202011_2020-11-08_2020-11-11.csv", "gcp", _gcp),
    ("koku/gcp/evidence-2020-11-16.csv", "gcp", _gcp),
    ("koku/gcp/2022-08-01_5.csv", "gcp", _gcp),
    ("koku/gcp/2024-03-01_5.csv", "gcp", _gcp),
    ("koku/gcp/legacy_file_export_evidence-2019-06-03.csv", "gcp-legacy", _gcp_legacy),
    ("koku/aws/2022-07-01-alt-columns.csv", "aws-cur", _cur),
    ("koku/aws/2023-06-01.csv", "aws-cur", _cur),
]


@pytest.mark.parametrize(("name", "fmt", "reference"), CASES, ids=[c[0] for c in CASES])
def test_sample_reconciles(name: str, fmt: str, reference: Callable[[Path], Sums]) -> None:
    path = SHARED / name
    daily = read_daily([path])
    assert daily.files[0].format == fmt
    assert daily.rows_read == len(_rows(path))
    assert list(daily.frame.columns) == list(DAILY_COLUMNS)
    got: Sums = defaultdict(Decimal)
    for rec in daily.frame.itertuples(index=False):
        key = (rec.ChargePeriodStart.date(), rec.BillingCurrency)
        got[key] += rec.BilledCost
        assert isinstance(rec.BilledCost, Decimal) and isinstance(rec.EffectiveCost, Decimal)
    want = reference(path)
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == value, key  # exact, so certainly to the cent
    for row in daily.to_cost_rows():  # every row is a valid wire CostRow
        assert row.ProviderName and row.ServiceName


LENIENT_CASES: list[tuple[str, str, Callable[[Path], Sums]]] = [
    ("koku/aws/test_cur.csv", "aws-cur", _cur),
    ("koku/azure/camel_azure_version_2.csv", "azure", _azure),
    ("koku/azure/azure_version_2.csv", "azure", _azure),  # currency "MC", kept as given
]


@pytest.mark.parametrize(
    ("name", "fmt", "reference"), LENIENT_CASES, ids=[c[0] for c in LENIENT_CASES]
)
def test_malformed_sample_reconciles_in_lenient_mode(
    name: str, fmt: str, reference: Callable[[Path], Sums]
) -> None:
    path = SHARED / name
    daily = read_daily([path], lenient=True)
    assert daily.files[0].format == fmt and daily.rows_read == len(_rows(path))
    assert daily.warnings and all(w.path == str(path) for w in daily.warnings)
    got: Sums = defaultdict(Decimal)
    for rec in daily.frame.itertuples(index=False):
        got[(rec.ChargePeriodStart.date(), rec.BillingCurrency)] += rec.BilledCost
    assert dict(got) == dict(reference(path))


#: Samples read with ``lenient=True, max_bad_rows=N``: (name, N, the rows set aside).
BAD_ROW_CASES = [("koku/aws/November-2023-None.csv", 2, frozenset({7, 27}))]


@pytest.mark.parametrize(("name", "limit", "bad"), BAD_ROW_CASES, ids=[c[0] for c in BAD_ROW_CASES])
def test_sample_with_bad_rows_reconciles_without_them(
    name: str, limit: int, bad: frozenset[int]
) -> None:
    path = SHARED / name
    daily = read_daily([path], lenient=True, max_bad_rows=limit)
    assert {r.row for r in daily.rejected} == bad
    assert all(r.path == str(path) and r.reason for r in daily.rejected)
    assert daily.rows_read == len(_rows(path)) - len(bad)
    got: Sums = defaultdict(Decimal)
    for rec in daily.frame.itertuples(index=False):
        got[(rec.ChargePeriodStart.date(), rec.BillingCurrency)] += rec.BilledCost
    assert dict(got) == dict(_cur(path, skip=bad))


def test_gcp_credits_are_netted_and_labels_become_tags() -> None:
    daily = read_daily([SHARED / "koku/gcp/202011_2020-11-08_2020-11-11.csv"])
    # Every line's FreeTrial credit equals its cost, so the net is zero on every day.
    assert all(v == 0 for v in daily.frame.BilledCost)
    tagged = read_daily([SHARED / "koku/gcp/tmp_example_2020-10.csv"]).frame
    assert any(t.startswith('{"vm_key_proj2":') for t in tagged.Tags)


def test_azure_tags_without_braces_and_charge_types() -> None:
    frame = read_daily([SHARED / "azure_finops_toolkit/EA_ActualCost_Small.csv"]).frame
    assert set(frame.ChargeCategory) == {"Usage", "Purchase"}
    assert set(frame.ProviderName) == {"Microsoft"}
    amortized = read_daily([SHARED / "azure_finops_toolkit/EA_AmortizedCost_Small.csv"]).frame
    assert any('"env":"prod"' in t for t in amortized.Tags)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("koku/aws/test_cur.csv", r"test_cur\.csv: row 2: expected 131 fields, found 130"),
        ("koku/aws/November-2023-None.csv", r"row 7: expected 200 fields, found 194"),
        ("koku/azure/azure_version_2.csv", r"row 2: field BillingCurrencyCode: not a 3-letter"),
        ("koku/azure/camel_azure_version_2.csv", r"mixed CRLF and LF"),
        ("koku/oci/reports_usage-csv_0001000000829494.csv", r"row 1: unknown header"),
    ],
)
def test_malformed_upstream_samples_fail_clearly(name: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read_daily([SHARED / name])  # strict is the default


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "koku/aws/November-2023-None.csv",
            r"row 7: field lineItem/UnblendedCost: not a number: 'BoxUsage:m5.large'$",
        ),
        ("koku/oci/reports_usage-csv_0001000000829494.csv", r"row 1: unknown header"),
    ],
)
def test_samples_lenient_mode_still_refuses(name: str, message: str) -> None:
    # November-2023-None.csv is read only with max_bad_rows >= 2 (BAD_ROW_CASES).
    with pytest.raises(InputError, match=message):
        read_daily([SHARED / name], lenient=True)


ROOT = Path(__file__).resolve().parents[3]
#: Read and reconciled in test_reader_reconcile.py through byte-identical copies in examples/data.
RECONCILED_COPIES = [
    "focus_sample_data/focus_sample_1000.csv",
    "focus_converters/aws_cur_sample_anonymous.csv",
    "koku/aws/koku-local-1_cur_2018-06.csv.gz",
]
#: API responses, read by an adapter through its SDK in services/adapters/tests (file named).
ADAPTER_TESTS = {
    **{
        f"aws_cost_explorer/{name}": "test_adapters.py"
        for name in (
            "awscli_example_get_cost_and_usage.json",
            "cloudscape_get_cost_and_usage_monthly_by_service.json",
            "hms_dbmi_get_cost_and_usage_daily_byEnv.json",
            "hms_dbmi_get_cost_and_usage_daily_byUser.json",
            "hms_dbmi_get_cost_and_usage_daily_none.json",
        )
    },
    "azure_rest_api_examples/costmanagement_BillingAccountQuery_daily.json": "test_adapters.py",
    "azure_rest_api_examples/consumption_UsageDetailsListByMCABillingAccount.json": (
        "test_adapters_azure_usage.py"
    ),
    "azure_rest_api_examples/consumption_UsageDetailsListByMetricActualCost.json": (
        "test_adapters_azure_usage.py"
    ),
    "gcp_billing_elastic/test-data.ndjson": "test_adapters.py",
    "vultr/govultr_fixture_billing_invoices.json": "test_adapters.py",
    "vultr/govultr_fixture_billing_invoices_123456_items.json": "test_adapters.py",
    "vultr/govultr_fixture_billing_pending_charges.json": "test_adapters.py",
    "vultr/openapi_example_billing_invoices.json": "test_adapters_vultr_openapi.py",
    "vultr/openapi_example_billing_invoice_items.json": "test_adapters_vultr_openapi.py",
    # Read by the adapter since it derives credits and checks invoices and pending charges:
    "vultr/openapi_example_account.json": "test_adapters_vultr_openapi.py",
    "vultr/openapi_example_billing_history.json": "test_adapters_vultr_openapi.py",
    "vultr/govultr_fixture_billing_history.json": "test_adapters.py",
}
#: Not billing exports, or not a source CostGuard reads (docs/adapters/README.md, "Samples").
NOT_READ = {
    "azure_finops_toolkit/open-data/PricingUnits.csv": "reference table, no costs",
    "azure_finops_toolkit/open-data/Regions.csv": "reference table, no costs",
    "azure_finops_toolkit/open-data/Services.csv": "reference table, no costs",
    "koku/aws/koku-local-Manifest.json": "CUR manifest, no costs",
    "koku/oci/reports_usage-csv_0001000000829494.csv": "OCI usage report, no cost columns",
    "vultr/openapi_example_billing_invoice.json": "one invoice header; its items are read",
    "vultr/govultr_fixture_billing_invoices_123456.json": "one invoice header; its items are read",
}
SAMPLE_DIRS = ("focus_*", "koku", "aws_cost_explorer", "azure_*", "gcp_billing_elastic", "vultr")


def test_every_sample_is_accounted_for() -> None:
    """Each sample file in the folders issue #4 names is reconciled by some test, or is listed
    in NOT_READ with the reason: a new sample cannot be skipped silently."""
    on_disk = {
        p.relative_to(SHARED).as_posix()
        for pattern in SAMPLE_DIRS
        for folder in SHARED.glob(pattern)
        for p in folder.rglob("*")
        if p.is_file()
    }
    spec = {n for n in on_disk if n.startswith("focus_spec_examples/")}
    assert len(spec) == 26  # refused by design: test_reader_lenient.py
    here = {c[0] for c in CASES} | {c[0] for c in LENIENT_CASES} | {c[0] for c in BAD_ROW_CASES}
    groups = [here, set(RECONCILED_COPIES), set(ADAPTER_TESTS), set(NOT_READ), spec]
    assert sum(len(g) for g in groups) == len(set().union(*groups))  # no file in two groups
    assert set().union(*groups) == on_disk
    for name in RECONCILED_COPIES:
        copy = ROOT / "examples" / "data" / Path(name).name
        assert copy.read_bytes() == (SHARED / name).read_bytes(), name
    for name, test in ADAPTER_TESTS.items():
        text = (ROOT / "services" / "adapters" / "tests" / test).read_text()
        assert Path(name).name in text or Path(name).stem in text, (name, test)

"""``azure`` with ``api: cost_details``: azure-mgmt-costmanagement's
``generate_cost_details_report.begin_create_operation`` against a local ARM server replaying the
documented exchange (azure-rest-api-specs, MIT, Microsoft.CostManagement/stable/2022-10-01/
examples GenerateCostDetailsReportBySubscriptionAndTimePeriod.json and
CostDetailsOperationResultsBySubscriptionScope.json: POST -> 202 Location + Retry-After, GET
Location -> 202 ... -> 200 manifest), and a second local server playing blob storage, serving
real Azure cost-details CSVs of ../shared/data (finops-toolkit EA samples, MIT; focus_converters
EA sample, MIT; koku's camelCase MCA sample, Apache-2.0). Retry-After is "0" (the SDK then waits
``polling_interval``, 0 here) except where a test checks that it is honoured.

Rows reconcile with sums computed here from the CSV text with Decimal."""

from __future__ import annotations

import csv
import io
import json
import socket
import time
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import BearerTokenCredentialPolicy
from costguard_adapters.azure_cost_details import month_chunks
from costguard_adapters.registry import load_all, read_exports
from costguard_core.errors import InputError
from costguard_core.focus import AZURE_CHARGE_CATEGORY

adapters = load_all()
SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"
ACTUAL = SHARED / "azure_finops_toolkit/EA_ActualCost_Small.csv"  # Sept 2023, USD
AMORTIZED = SHARED / "azure_finops_toolkit/EA_AmortizedCost_Small.csv"  # Sept 2023, USD
EA_CAD = SHARED / "focus_converters/azure_ea_export_sample_anonymous.csv"  # 9/2/2023, CAD
MCA_AUGUST = SHARED / "koku/azure/camel_azure_version_2.csv"  # 08/01/2023, mixed CRLF/LF
SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000"
PROVIDER = f"{SCOPE}/providers/Microsoft.CostManagement"
SAS = "sv=2020-05-31&sr=b&sig=s3cr3t"  # the documented blobLink's query, a made-up signature


class _Token:
    def get_token(self, *scopes, **kw) -> AccessToken:
        return AccessToken("test-token", 2_000_000_000)


class _PlainHttpBearer(BearerTokenCredentialPolicy):
    """The SDK's bearer-token policy, with its https check off for the local server (what
    ``enforce_https=False`` per call does), so the tests see the token ARM gets."""

    def on_request(self, request) -> None:
        request.context.options["enforce_https"] = False
        super().on_request(request)


class FakeCostDetails:
    """ARM and blob storage. ``outcome[month]`` ("2023-09") answers the report of that month:
    a list of CSV blobs (bytes), a dict (the final poll's body: Failed, NoDataFound), or a
    (status, body) tuple the POST itself answers (204, an error)."""

    def __init__(self, http_server) -> None:
        self.outcome: dict[str, object] = {}
        self.pending = 0  # 202 polls before the 200
        self.retry_after = "0"
        self.byte_count_delta = 0
        self.blob_status = 200
        self.requests: list[dict] = []
        self.polls: list[tuple[float, str]] = []
        self.ops: dict[str, list] = {}
        self.blobs: dict[str, bytes] = {}
        self.arm_seen: list = []
        self.storage_seen: list = []
        self.arm = http_server(self._arm, self.arm_seen)
        self.storage = http_server(self._blob, self.storage_seen)

    def _accepted(self, op: str) -> tuple[int, bytes, dict]:
        location = f"{self.arm}{PROVIDER}/costDetailsOperationResults/{op}?api-version=2025-03-01"
        return 202, b"", {"Location": location, "Retry-After": self.retry_after}

    def _arm(self, method: str, path: str, body: bytes):
        route = urlsplit(path).path
        if method == "POST" and route == f"{PROVIDER}/generateCostDetailsReport":
            request = json.loads(body)
            self.requests.append(request)
            outcome = self.outcome[request["timePeriod"]["start"][:7]]
            if isinstance(outcome, tuple):
                return outcome
            op = f"00000000-0000-0000-0000-{len(self.requests):012d}"
            self.ops[op] = [self.pending, request, outcome]
            return self._accepted(op)
        if method == "GET" and route.startswith(f"{PROVIDER}/costDetailsOperationResults/"):
            op = route.rsplit("/", 1)[1]
            self.polls.append((time.monotonic(), path))
            state = self.ops[op]
            if state[0] > 0:
                state[0] -= 1
                return self._accepted(op)
            if isinstance(state[2], dict):
                return 200, state[2]
            return 200, self._completed(op, state[1], state[2])
        return 404, {"error": {"code": "NotFound", "message": route}}

    def _completed(self, op: str, request: dict, blobs: list[bytes]) -> dict:
        links = []
        for n, data in enumerate(blobs, 1):
            self.blobs[f"/armreports/{op}/{n}.csv"] = data
            links.append(
                {
                    "blobLink": f"{self.storage}/armreports/{op}/{n}.csv?{SAS}",
                    "byteCount": len(data) + self.byte_count_delta,
                }
            )
        return {
            "id": f"{PROVIDER[1:]}/costDetailsOperationResults/{op}",
            "name": op,
            "status": "Completed",
            "manifest": {
                "manifestVersion": "2025-03-01",
                "dataFormat": "Csv",
                "blobCount": len(blobs),
                "byteCount": sum(len(b) for b in blobs),
                "compressData": False,
                "requestContext": {"requestScope": SCOPE[1:], "requestBody": request},
                "blobs": links,
            },
            "validTill": "2022-05-10T08:08:46.1973252Z",
        }

    def _blob(self, method: str, path: str, body: bytes):
        data = self.blobs.get(urlsplit(path).path)
        if data is None or self.blob_status != 200:
            return self.blob_status if data else 404, b"<Error/>", {"Content-Type": "text/xml"}
        return 200, data, {"Content-Type": "text/csv"}

    def adapter(self, **settings):
        cls = adapters.get("azure")
        return cls(
            cls.Settings(scope=SCOPE, base_url=self.arm, api="cost_details", **settings),
            credential=_Token(),
            authentication_policy=_PlainHttpBearer(
                _Token(), "https://management.azure.com/.default"
            ),
            polling_interval=0,
        )


@pytest.fixture()
def service(http_server) -> FakeCostDetails:
    return FakeCostDetails(http_server)


def split(path: Path, parts: int = 2) -> list[bytes]:
    """The sample's bytes as ``parts`` CSV blobs, each with the header (as a report's blobs)."""
    header, *lines = path.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // parts)
    return [header + b"".join(lines[i : i + size]) for i in range(0, len(lines), size)]


def _pick(rec: dict[str, str], *names: str) -> str | None:
    lower = {k.lower(): v for k, v in rec.items()}
    return next((lower[n.lower()] for n in names if lower.get(n.lower())), None)


def want_leaves(paths: list[Path], start: date, end: date) -> dict[tuple, Decimal]:
    """Cost per (day, subscription, meter category, location, resource, charge category,
    currency), summed here from the CSV text with Decimal."""
    want: dict[tuple, Decimal] = defaultdict(Decimal)
    for path in paths:
        text = path.read_bytes().decode("utf-8-sig")
        for rec in csv.DictReader(io.StringIO(text, newline="")):
            raw_day = _pick(rec, "Date") or ""
            fmt = "%m/%d/%Y" if "/" in raw_day else "%Y-%m-%d"
            day = datetime.strptime(raw_day, fmt).date()
            if not start <= day <= end:
                continue
            key = (
                day,
                _pick(rec, "SubscriptionId"),
                _pick(rec, "MeterCategory"),
                _pick(rec, "ResourceLocation"),
                _pick(rec, "ResourceId", "InstanceName"),
                AZURE_CHARGE_CATEGORY[_pick(rec, "ChargeType") or "Usage"],
                _pick(rec, "BillingCurrencyCode", "BillingCurrency"),
            )
            want[key] += Decimal(_pick(rec, "CostInBillingCurrency", "Cost") or "0")
    return dict(want)


def got_leaves(rows) -> dict[tuple, Decimal]:
    got: dict[tuple, Decimal] = defaultdict(Decimal)
    for r in rows:
        assert r.EffectiveCost == r.BilledCost
        key = (r.ChargePeriodStart, r.SubAccountId, r.ServiceName, r.RegionId, r.ResourceId)
        got[(*key, r.ChargeCategory, r.BillingCurrency)] += r.BilledCost
    return dict(got)


def by_day(leaves: dict[tuple, Decimal]) -> dict[tuple[date, str], Decimal]:
    days: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for key, cost in leaves.items():
        days[(key[0], key[-1])] += cost
    return dict(days)


def test_month_chunks_cut_at_calendar_months() -> None:
    assert list(month_chunks(date(2024, 1, 31), date(2024, 3, 1))) == [
        (date(2024, 1, 31), date(2024, 1, 31)),
        (date(2024, 2, 1), date(2024, 2, 29)),
        (date(2024, 3, 1), date(2024, 3, 1)),
    ]
    assert list(month_chunks(date(2023, 9, 1), date(2023, 9, 30))) == [
        (date(2023, 9, 1), date(2023, 9, 30))
    ]
    assert list(month_chunks(date(2023, 12, 5), date(2024, 1, 2)))[-1] == (
        date(2024, 1, 1),
        date(2024, 1, 2),
    )
    assert list(month_chunks(date(2023, 9, 2), date(2023, 9, 1))) == []


@pytest.mark.parametrize(("sample", "currency"), [(ACTUAL, "USD"), (EA_CAD, "CAD")])
def test_one_month_two_blobs_reconcile(service, sample: Path, currency: str) -> None:
    service.outcome["2023-09"] = split(sample)
    rows = list(service.adapter().pull(date(2023, 9, 1), date(2023, 9, 30)))
    assert service.requests == [
        {"metric": "ActualCost", "timePeriod": {"start": "2023-09-01", "end": "2023-09-30"}}
    ]
    # the blob rows are the export route's rows: same reader, same mapping, blobs merged
    assert [r.model_dump() for r in rows] == [
        r.model_dump() for r in read_exports([sample], lenient=False)
    ]
    want = want_leaves([sample], date(2023, 9, 1), date(2023, 9, 30))
    assert got_leaves(rows) == want and len(want) > 3
    assert by_day(got_leaves(rows)) == by_day(want)
    assert {r.BillingCurrency for r in rows} == {currency}
    # two blob downloads, with no bearer token; ARM calls carry it
    assert [urlsplit(p).path for m, p, h in service.storage_seen] == sorted(service.blobs)
    assert len(service.blobs) == 2
    assert all("authorization" not in h for m, p, h in service.storage_seen)
    assert {h.get("authorization") for m, p, h in service.arm_seen} == {"Bearer test-token"}


def test_polling_honours_retry_after(service) -> None:
    service.outcome["2023-09"] = [ACTUAL.read_bytes()]
    service.pending, service.retry_after = 1, "1"
    start = time.monotonic()
    rows = list(service.adapter().pull(date(2023, 9, 1), date(2023, 9, 30)))
    (first, location), (second, again) = service.polls
    assert location == again
    assert location.startswith(f"{PROVIDER}/costDetailsOperationResults/00000000-")
    # polling_interval is 0: the second poll waited for the 202's Retry-After
    assert second - first >= 0.95 and time.monotonic() - start < 10
    assert by_day(got_leaves(rows)) == by_day(
        want_leaves([ACTUAL], date(2023, 9, 1), date(2023, 9, 30))
    )


@pytest.mark.parametrize(
    ("start", "end"),
    [(date(2023, 8, 1), date(2023, 9, 30)), (date(2023, 8, 15), date(2023, 9, 10))],
)
def test_two_months_make_two_requests(service, start: date, end: date) -> None:
    service.outcome["2023-08"] = [MCA_AUGUST.read_bytes()]
    service.outcome["2023-09"] = split(ACTUAL)
    rows = list(service.adapter(lenient=True).pull(start, end))
    assert [r["timePeriod"] for r in service.requests] == [
        {"start": start.isoformat(), "end": "2023-08-31"},
        {"start": "2023-09-01", "end": end.isoformat()},
    ]
    assert {r["metric"] for r in service.requests} == {"ActualCost"}
    want = want_leaves([MCA_AUGUST, ACTUAL], start, end)
    assert got_leaves(rows) == want
    months = {day.month for day, _ in by_day(want)}
    assert months == ({8, 9} if start.day == 1 else {9})


FAILED = {
    "id": f"{PROVIDER[1:]}/costDetailsOperationResults/x",
    "status": "Failed",
    "error": {"code": "InternalServerError", "message": "Report generation failed."},
}
TOO_LONG = {"error": {"code": "400", "message": "The maximum allowed date range is 1 months."}}


@pytest.mark.parametrize(
    ("outcome", "match"),
    [
        (FAILED, r"status Failed: InternalServerError: Report generation failed\."),
        ((400, TOO_LONG), r"HTTP 400: 400: The maximum allowed date range is 1 months\."),
        ({"status": "Queued"}, r"status Queued"),
    ],
)
def test_failed_report_names_scope_and_month(service, outcome: object, match: str) -> None:
    service.outcome["2023-08"] = (204, b"")
    service.outcome["2023-09"] = outcome
    where = rf"^{SCOPE}: cost details report 2023-09 \(2023-09-01\.\.2023-09-30\): "
    with pytest.raises(InputError, match=where + match):
        list(service.adapter().pull(date(2023, 8, 1), date(2023, 9, 30)))
    assert len(service.requests) == 2 and not service.storage_seen


@pytest.mark.parametrize(
    "outcome",
    [(204, b""), {"status": "NoDataFound"}, []],
    ids=["204", "NoDataFound", "no-blobs"],
)
def test_empty_report_gives_no_rows(service, outcome: object) -> None:
    service.outcome["2023-09"] = outcome
    assert list(service.adapter().pull(date(2023, 9, 1), date(2023, 9, 30))) == []
    assert len(service.requests) == 1 and not service.storage_seen


def test_amortized_metric_and_exact_digits(service) -> None:
    service.outcome["2023-09"] = split(AMORTIZED, 3)
    adapter = service.adapter(cost_type="AmortizedCost")
    rows = list(adapter.pull(date(2023, 9, 1), date(2023, 9, 30)))
    assert [r["metric"] for r in service.requests] == ["AmortizedCost"]
    assert got_leaves(rows) == want_leaves([AMORTIZED], date(2023, 9, 1), date(2023, 9, 30))
    for day, text in ((5, "0.0000000072922557592391990000"), (17, "0.0001188669167459011366")):
        (row,) = [
            r for r in rows if r.ServiceName == "Bandwidth" and r.ChargePeriodStart.day == day
        ]
        assert row.BilledCost == Decimal(text) != Decimal(float(text))  # a float would round it


def test_bad_cost_type_is_refused_before_any_request(service) -> None:
    with pytest.raises(InputError, match="field cost_type: 'Usage' is not ActualCost"):
        list(service.adapter(cost_type="Usage").pull(date(2023, 9, 1), date(2023, 9, 30)))
    assert not service.arm_seen


def test_blob_errors_name_the_blob_never_its_sas(service) -> None:
    where = rf"^{SCOPE} cost details 2023-09 blob 2/2 \(/armreports/[-0-9]+/2\.csv\): "
    service.outcome["2023-09"] = split(ACTUAL)
    service.byte_count_delta = 1  # the manifest promises one byte more than the blob holds
    with pytest.raises(InputError, match=r"blob 1/2 .*: downloaded (\d+) bytes, manifest says"):
        list(service.adapter().pull(date(2023, 9, 1), date(2023, 9, 30)))
    service.byte_count_delta, service.blob_status = 0, 403
    with pytest.raises(InputError, match=r"blob 1/2 .*: download answered HTTP 403") as err:
        list(service.adapter().pull(date(2023, 9, 1), date(2023, 9, 30)))
    assert "sig=" not in str(err.value) and "s3cr3t" not in str(err.value)
    with socket.socket() as closed:  # a port nothing listens on: the blob host is unreachable
        closed.bind(("127.0.0.1", 0))
        storage, service.storage = service.storage, f"http://127.0.0.1:{closed.getsockname()[1]}"
    with pytest.raises(InputError, match=r"blob 1/2 .*: download failed: ConnectError") as err:
        list(service.adapter().pull(date(2023, 9, 1), date(2023, 9, 30)))
    assert "s3cr3t" not in str(err.value)
    service.storage = storage
    # a bad row in a blob: the reader's error, naming the blob, its row and field
    service.blob_status = 200
    first, second = split(ACTUAL)
    assert second.count(b",0.21268368,") == 1  # the Cost of the blob's second line item
    service.outcome["2023-09"] = [first, second.replace(b",0.21268368,", b",0.2126x8368,")]
    with pytest.raises(InputError, match=where + r"row 3: field Cost: ") as err:
        list(service.adapter().pull(date(2023, 9, 1), date(2023, 9, 30)))
    assert "s3cr3t" not in str(err.value)

"""The vultr adapter on the Vultr API v2 OpenAPI spec's own response examples (../shared/data/vultr
``openapi_example_*``), including the items and history examples' ``meta.links.next`` cursors,
the history's credit of 50.55 and the account figure check."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from costguard_adapters.registry import load_all

adapters = load_all()
VULTR = Path(__file__).resolve().parents[4] / "shared" / "data" / "vultr"


def test_vultr_openapi_examples_with_a_next_page(http_server, caplog) -> None:
    invoices = json.loads((VULTR / "openapi_example_billing_invoices.json").read_text())
    items = json.loads((VULTR / "openapi_example_billing_invoice_items.json").read_text())
    history = json.loads((VULTR / "openapi_example_billing_history.json").read_text())
    account = json.loads((VULTR / "openapi_example_account.json").read_text())
    invoice_id = invoices["billing_invoices"][0]["id"]
    cursor = items["meta"]["links"]["next"]
    assert cursor  # the example announces a next page
    history_cursor = history["meta"]["links"]["next"]
    assert history_cursor and history["meta"]["total"] == 3  # a second page with one entry
    # Our own page 2 of the history, in the documented shape: a payment (no cost) and a
    # second credit of the same day, summed with the example's into one row.
    history_page_2 = {
        "billing_history": [
            {"id": 123458, "date": "2020-10-10T03:00:00+00:00", "type": "payment",
             "description": "Payment", "amount": -25, "balance": -45.55},
            {"id": 123459, "date": "2020-10-10T23:59:59+00:00", "type": "credit",
             "description": "Account Credit", "amount": 0.45, "balance": -46},
        ],
        "meta": {"total": 3, "links": {"next": "", "prev": history_cursor}},
    }  # fmt: skip
    seen: list[tuple[str, dict]] = []

    def handle(method: str, path: str, body: bytes):
        parsed = urlparse(path)
        query = parse_qs(parsed.query)
        seen.append((parsed.path, query))
        if parsed.path == "/v2/billing/invoices":
            return 200, invoices
        if parsed.path == f"/v2/billing/invoices/{invoice_id}/items":
            if query.get("cursor") == [cursor]:  # the last page: empty, no further cursor
                return 200, {"invoice_items": [], "meta": {"links": {"next": "", "prev": ""}}}
            return 200, items
        if parsed.path == "/v2/billing/pending-charges":  # the spec has no example of it
            return 200, {"pending_charges": []}
        if parsed.path == "/v2/billing/history":
            return 200, history_page_2 if query.get("cursor") == [history_cursor] else history
        if parsed.path == "/v2/account":
            return 200, account
        return 404, {"error": parsed.path}

    url = http_server(handle)
    caplog.set_level("WARNING", logger="costguard.adapters")
    rows = list(adapters.build("vultr", {"api_key": "k", "base_url": url}).pull(None, None))
    usage = [r for r in rows if r.ChargeCategory == "Usage"]
    want = sum(Decimal(str(i["total"])) for i in items["invoice_items"])
    assert want == Decimal("32.09")
    assert sum(r.BilledCost for r in usage) == want
    by_product: dict[str, Decimal] = {}
    for r in usage:
        by_product[r.ServiceName] = by_product.get(r.ServiceName, Decimal(0)) + r.BilledCost
    assert by_product == {"Load Balancer": Decimal(10), "Vultr Cloud Compute": Decimal("22.09")}
    assert {r.ResourceId for r in usage} == {
        "Load Balancer (my-loadbalancer)",
        "1.1.1.1 (8192 MB) [my-instance]",
    }
    # 2021-08-31 .. 2021-09-29: each item spread over the UTC days of [start, end).
    assert min(r.ChargePeriodStart for r in usage).isoformat() == "2021-08-31"
    assert [q.get("cursor") for p, q in seen if p.endswith("/items")] == [None, [cursor]]
    # Credits: 50.55 (page 1) + 0.45 (page 2, same UTC day), negative; the payment is no cost.
    credits = [r for r in rows if r.ChargeCategory == "Credit"]
    got = [(r.ChargePeriodStart.isoformat(), r.ServiceName, r.ResourceId, r.BilledCost)
           for r in credits]  # fmt: skip
    assert got == [("2020-10-10", "Account Credit", None, Decimal("-51.00"))]
    assert credits[0].EffectiveCost == Decimal("-51.00")
    assert len(rows) == len(usage) + 1
    assert [q.get("cursor") for p, q in seen if p.endswith("/history")] == [None, [history_cursor]]
    # The history's invoice 123456 says 100.03, its items (both pages) sum to 32.09; the
    # account says 60.25 pending, the (empty) pending charges 0: both are warned about.
    warnings = [r.getMessage() for r in caplog.records]
    assert [w for w in warnings if "invoice 123456" in w and "100.03" in w and "32.09" in w]
    assert [w for w in warnings if "pending_charges 60.25" in w and "0.00" in w]

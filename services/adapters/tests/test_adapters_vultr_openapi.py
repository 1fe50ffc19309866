"""The vultr adapter on the Vultr API v2 OpenAPI spec's own response examples (../shared/data/vultr
``openapi_example_*``), including the items example's ``meta.links.next`` cursor."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from costguard_adapters.registry import load_all

adapters = load_all()
VULTR = Path(__file__).resolve().parents[4] / "shared" / "data" / "vultr"


def test_vultr_openapi_examples_with_a_next_page(http_server) -> None:
    invoices = json.loads((VULTR / "openapi_example_billing_invoices.json").read_text())
    items = json.loads((VULTR / "openapi_example_billing_invoice_items.json").read_text())
    invoice_id = invoices["billing_invoices"][0]["id"]
    cursor = items["meta"]["links"]["next"]
    assert cursor  # the example announces a next page
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
        return 404, {"error": parsed.path}

    url = http_server(handle)
    rows = list(adapters.build("vultr", {"api_key": "k", "base_url": url}).pull(None, None))
    want = sum(Decimal(str(i["total"])) for i in items["invoice_items"])
    assert want == Decimal("32.09")
    assert sum(r.BilledCost for r in rows) == want
    by_product: dict[str, Decimal] = {}
    for r in rows:
        by_product[r.ServiceName] = by_product.get(r.ServiceName, Decimal(0)) + r.BilledCost
    assert by_product == {"Load Balancer": Decimal(10), "Vultr Cloud Compute": Decimal("22.09")}
    # 2021-08-31 .. 2021-09-29: each item spread over the UTC days of [start, end).
    assert min(r.ChargePeriodStart for r in rows).isoformat() == "2021-08-31"
    assert [q.get("cursor") for p, q in seen if p.endswith("/items")] == [None, [cursor]]

"""Cost ingest: idempotency, restatement, all-or-nothing, exact money, listing."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa


def _ingest(client, h, rows, source="aws-cur"):
    return client.post(
        "/api/v1/costs/ingest", json={"source": source, "rows": rows}, headers=h.auth("agent")
    )


def _all(client, h, **params):
    resp = client.get("/api/v1/costs", params=params, headers=h.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_ingest_is_idempotent(client, h, engine):
    rows = [h.cost_row(ChargePeriodStart=d) for d in h.days("2025-03-01", 3)]
    first = _ingest(client, h, rows).json()
    assert first | {"ingestion_id": 0} == {
        "ingestion_id": 0,
        "source": "aws-cur",
        "received": 3,
        "inserted": 3,
        "updated": 0,
        "unchanged": 0,
    }
    again = _ingest(client, h, rows).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert again["ingestion_id"] != first["ingestion_id"]
    assert _all(client, h)["count"] == 3
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ingestion")).scalar() == 2


def test_key_includes_source_tags_and_dimensions(client, h):
    base = h.cost_row()
    assert _ingest(client, h, [base]).json()["inserted"] == 1
    assert _ingest(client, h, [base], source="other").json()["inserted"] == 1
    assert _ingest(client, h, [h.cost_row(Tags={"team": "web"})]).json()["inserted"] == 1
    assert _ingest(client, h, [h.cost_row(RegionId="eu-west-1")]).json()["inserted"] == 1
    # Same tags in another order are the same key.
    tags = h.cost_row(Tags={"b": "2", "a": "1"})
    assert _ingest(client, h, [tags]).json()["inserted"] == 1
    assert _ingest(client, h, [h.cost_row(Tags={"a": "1", "b": "2"})]).json()["unchanged"] == 1


def test_restatement_updates_cost(client, h):
    _ingest(client, h, [h.cost_row(BilledCost="10", EffectiveCost="9")])
    # Same value written differently is not a change.
    same = _ingest(client, h, [h.cost_row(BilledCost="10.000", EffectiveCost="9.0")]).json()
    assert same["unchanged"] == 1
    result = _ingest(client, h, [h.cost_row(BilledCost="11.25", EffectiveCost="9")]).json()
    assert (result["inserted"], result["updated"], result["unchanged"]) == (0, 1, 0)
    [row] = _all(client, h)["data"]
    assert Decimal(row["BilledCost"]) == Decimal("11.25")
    assert row["EffectiveCost"] == "9"


def test_money_is_exact(client, h):
    big = "12345678901234.123456789012345678901234"
    _ingest(
        client,
        h,
        [h.cost_row(BilledCost=big, EffectiveCost="0.000000000000000000000001", ListCost="0")],
    )
    [row] = _all(client, h)["data"]
    assert Decimal(row["BilledCost"]) == Decimal(big)
    assert Decimal(row["EffectiveCost"]) == Decimal("0.000000000000000000000001")
    assert Decimal(row["ListCost"]) == 0


def test_bad_row_rejects_whole_batch(client, h, engine):
    _ingest(client, h, [h.cost_row(BilledCost="1")])
    before = _all(client, h)
    rows = [
        h.cost_row(BilledCost="2"),  # would be a restatement
        h.cost_row(ChargePeriodStart="2025-03-02"),  # would be an insert
        h.cost_row(
            ChargePeriodStart="2025-03-03", BilledCost="1.0000000000000000000000001"
        ),  # 25 dp
    ]
    resp = _ingest(client, h, rows)
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert detail["field"] == "rows[2].BilledCost"
    assert detail["row"] == 2
    assert _all(client, h) == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ingestion")).scalar() == 1


def test_schema_error_names_row_and_field(client, h):
    rows = [h.cost_row(), h.cost_row(BillingCurrency="DOLLARS")]
    resp = _ingest(client, h, rows)
    assert resp.status_code == 422
    [err] = resp.json()["detail"]
    assert err["loc"] == ["body", "rows", 1, "BillingCurrency"]
    assert _all(client, h)["count"] == 0


def test_too_long_value_and_conflicting_duplicates(client, h):
    resp = _ingest(client, h, [h.cost_row(RegionId="r" * 101)])
    assert resp.status_code == 422 and resp.json()["detail"]["field"] == "rows[0].RegionId"
    resp = _ingest(client, h, [h.cost_row(BilledCost="1"), h.cost_row(BilledCost="2")])
    assert resp.status_code == 422 and resp.json()["detail"]["field"] == "rows[1].BilledCost"
    assert _all(client, h)["count"] == 0


def test_mixed_currencies_stored_per_row(client, h):
    rows = [
        h.cost_row(BillingCurrency="USD", BilledCost="5"),
        h.cost_row(BillingCurrency="EUR", BilledCost="7"),
    ]
    assert _ingest(client, h, rows).json()["inserted"] == 2
    data = _all(client, h)["data"]
    assert {(r["BillingCurrency"], r["BilledCost"]) for r in data} == {("USD", "5"), ("EUR", "7")}


def test_list_orders_by_day_then_dimensions_and_filters(client, h):
    rows = [
        h.cost_row(ChargePeriodStart="2025-03-02", ServiceName="B"),
        h.cost_row(ChargePeriodStart="2025-03-01", ServiceName="Z"),
        h.cost_row(ChargePeriodStart="2025-03-02", ServiceName="A"),
        h.cost_row(ChargePeriodStart="2025-03-03", ServiceName="A", SubAccountId=None),
        h.cost_row(ChargePeriodStart="2025-03-03", ServiceName="A"),
    ]
    _ingest(client, h, rows)
    data = _all(client, h)["data"]
    assert [(r["ChargePeriodStart"], r["ServiceName"], r["SubAccountId"]) for r in data] == [
        ("2025-03-01", "Z", "222222222222"),
        ("2025-03-02", "A", "222222222222"),
        ("2025-03-02", "B", "222222222222"),
        ("2025-03-03", "A", None),
        ("2025-03-03", "A", "222222222222"),
    ]
    page = _all(client, h, start="2025-03-02", end="2025-03-02", limit=1, offset=1)
    assert page["count"] == 2
    assert [r["ServiceName"] for r in page["data"]] == ["B"]


def test_viewer_cannot_ingest(client, h):
    resp = client.post(
        "/api/v1/costs/ingest", json={"source": "x", "rows": []}, headers=h.auth("viewer")
    )
    assert resp.status_code == 403


def test_a_refused_batch_is_counted(client, h):
    from prometheus_client import REGISTRY

    def rejected() -> float:
        return REGISTRY.get_sample_value("costguard_ingest_rejected_total") or 0.0

    before = rejected()
    assert _ingest(client, h, [h.cost_row()]).status_code == 200
    assert rejected() == before
    bad = h.cost_row(BilledCost="1.0000000000000000000000001")  # 25 decimal places
    assert _ingest(client, h, [bad]).status_code == 422
    assert rejected() == before + 1

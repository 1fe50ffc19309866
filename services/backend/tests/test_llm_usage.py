"""``POST /api/v1/llm-usage``: priced from the table or the given cost, stored as FOCUS rows
through the cost ingest (idempotent, restated), roles, errors naming record and field."""

from __future__ import annotations

from decimal import Decimal

URL = "/api/v1/llm-usage"


def _rows(client, h):
    resp = client.get("/api/v1/costs", headers=h.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


def test_tokens_priced_from_table_and_cost_kept(client, h):
    body = [
        # gpt-4o-mini: USD 0.15 in / 0.60 out per 1M tokens (llm_prices.json).
        {"provider": "openai", "model": "gpt-4o-mini", "timestamp": "2025-03-01T08:15:00Z",
         "input_tokens": 2_000_000, "output_tokens": 500_000, "requests": 40, "project": "web"},
        # Same day, model and project, another hour: its own hourly row, the same daily row.
        {"provider": "openai", "model": "gpt-4o-mini", "timestamp": "2025-03-01T23:59:00Z",
         "input_tokens": 1_000_000, "output_tokens": 0, "requests": 1, "project": "web"},
        {"provider": "anthropic", "model": "internal-model", "day": "2025-03-01",
         "input_tokens": 10, "output_tokens": 10, "requests": 1, "cost": "1.2345",
         "currency": "EUR"},
    ]  # fmt: skip
    resp = client.post(URL, json=body, headers=h.auth("agent"))
    assert resp.status_code == 200, resp.text
    assert resp.json()["source"] == "llm-usage:api"
    # Two hourly rows (08:00, 23:00) and one daily row (the day-only EUR record).
    assert (resp.json()["received"], resp.json()["inserted"]) == (3, 3)
    rows = {r["ProviderName"]: r for r in _rows(client, h)}
    openai = rows["openai"]
    assert Decimal(openai["BilledCost"]) == Decimal("0.75")  # 3M x 0.15 + 0.5M x 0.60
    assert openai["EffectiveCost"] == openai["BilledCost"]
    assert openai["ServiceCategory"] == "AI and Machine Learning"
    assert (openai["ServiceName"], openai["ResourceId"], openai["SubAccountId"]) == (
        "openai API", "gpt-4o-mini", "web",
    )  # fmt: skip
    assert openai["BillingCurrency"] == "USD" and openai["ChargePeriodStart"] == "2025-03-01"
    assert Decimal(rows["anthropic"]["BilledCost"]) == Decimal("1.2345")
    assert rows["anthropic"]["BillingCurrency"] == "EUR"


def test_repost_is_idempotent_and_new_total_restates(client, h):
    record = {"provider": "openai", "model": "gpt-4o", "day": "2025-03-02", "cost": "5"}
    assert client.post(URL, json=[record], headers=h.auth("agent")).json()["inserted"] == 1
    again = client.post(URL, json=[record], headers=h.auth("admin")).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 1)
    later = client.post(URL, json=[record | {"cost": "7.5"}], headers=h.auth("agent")).json()
    assert later["updated"] == 1
    [row] = _rows(client, h)
    assert Decimal(row["BilledCost"]) == Decimal("7.5")


def test_roles(client, h):
    record = {"provider": "openai", "model": "gpt-4o", "day": "2025-03-02", "cost": "5"}
    assert client.post(URL, json=[record], headers=h.auth("viewer")).status_code == 403
    assert client.post(URL, json=[record], headers=h.auth("approver")).status_code == 403
    assert client.post(URL, json=[record]).status_code == 401


def test_errors_name_record_and_field_and_store_nothing(client, h):
    good = {"provider": "openai", "model": "gpt-4o", "day": "2025-03-02", "cost": "5"}
    cases = [
        ({"provider": "openai", "model": "no-such-model", "day": "2025-03-02"}, "[1].model"),
        (good | {"input_tokens": -1}, "[1].input_tokens"),
        ({"provider": "openai", "model": "gpt-4o", "cost": "1"}, "[1]"),
        (good | {"day": "2025-02-30"}, "[1].day"),
        (good | {"colour": "red"}, "[1].colour"),
        (good | {"cost": "0.1234567890123456789012345678"}, "rows[0].BilledCost"),
    ]
    for bad, field in cases:
        resp = client.post(URL, json=[good, bad], headers=h.auth("agent"))
        assert resp.status_code == 422, (bad, resp.text)
        detail = resp.json()["detail"]
        assert detail["field"] == field, (bad, detail)
    assert _rows(client, h) == []
    assert client.post(URL, json={"not": "a list"}, headers=h.auth("agent")).status_code == 422


def _hourly(client, h):
    resp = client.get("/api/v1/costs/hourly", headers=h.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


def test_timestamps_go_to_hourly_rows_that_make_the_day(client, h):
    web = {"provider": "openai", "model": "gpt-4o", "project": "web"}
    body = [
        web | {"timestamp": "2025-03-01T02:10:00Z", "cost": "1.25"},
        web | {"timestamp": "2025-03-01T04:50:00+02:00", "cost": "0.5"},  # 02:50 UTC
        web | {"timestamp": "2025-03-01T03:00:00Z", "cost": "2"},
        web | {"timestamp": "2025-03-01T05:30:00", "cost": "0.000000000000000000000001"},  # UTC
        # A day-only record (another project) stays a daily row, as before.
        {"provider": "openai", "model": "gpt-4o", "project": "batch", "day": "2025-03-01",
         "cost": "9"},
    ]  # fmt: skip
    resp = client.post(URL, json=body, headers=h.auth("agent"))
    assert resp.status_code == 200, resp.text
    assert (resp.json()["received"], resp.json()["inserted"]) == (4, 4)  # 3 hours + 1 day
    hours = [
        (r["ChargePeriodStart"], Decimal(r["BilledCost"]), r["SubAccountId"])
        for r in _hourly(client, h)
    ]
    assert hours == [
        ("2025-03-01T02:00:00Z", Decimal("1.75"), "web"),
        ("2025-03-01T03:00:00Z", Decimal("2"), "web"),
        ("2025-03-01T05:00:00Z", Decimal("0.000000000000000000000001"), "web"),
    ]
    days = {r["SubAccountId"]: r for r in _rows(client, h)}
    assert Decimal(days["web"]["BilledCost"]) == Decimal("3.750000000000000000000001")
    assert days["web"]["ServiceCategory"] == "AI and Machine Learning"
    assert Decimal(days["batch"]["BilledCost"]) == Decimal("9")

    again = client.post(URL, json=body, headers=h.auth("agent")).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 4)
    later = client.post(URL, json=[web | {"timestamp": "2025-03-01T03:40:00Z", "cost": "5"}],
                        headers=h.auth("agent")).json()  # fmt: skip
    assert (later["inserted"], later["updated"]) == (0, 1)  # the 03:00 running total replaced
    days = {r["SubAccountId"]: r for r in _rows(client, h)}
    assert Decimal(days["web"]["BilledCost"]) == Decimal("6.750000000000000000000001")


def test_a_day_given_by_hours_refuses_a_day_total(client, h):
    web = {"provider": "openai", "model": "gpt-4o", "project": "web", "cost": "1"}
    mixed = [web | {"timestamp": "2025-03-01T02:00:00Z"}, web | {"day": "2025-03-01"}]
    resp = client.post(URL, json=mixed, headers=h.auth("agent"))
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert (detail["field"], detail["row"]) == ("[1].day", 1)
    assert "record [0]" in detail["message"]
    assert _rows(client, h) == [] and _hourly(client, h) == []

    assert client.post(URL, json=mixed[:1], headers=h.auth("agent")).status_code == 200
    resp = client.post(URL, json=mixed[1:], headers=h.auth("agent"))
    assert resp.status_code == 422
    assert resp.json()["detail"]["field"] == "rows[0].ChargePeriodStart"
    # Another day, or another project, of a day-only record is fine.
    fine = [web | {"day": "2025-03-02"}, web | {"day": "2025-03-01", "project": "batch"}]
    assert client.post(URL, json=fine, headers=h.auth("agent")).json()["inserted"] == 2
    assert len(_rows(client, h)) == 3 and len(_hourly(client, h)) == 1

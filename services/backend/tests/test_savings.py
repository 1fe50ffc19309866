"""Realized savings: the scope's spend after execution against the counterfactual A / W."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from costguard_core.signing import signed_headers

LEAF = {
    "ProviderName": "AWS",
    "BillingAccountId": "111111111111",
    "SubAccountId": "222222222222",
    "ServiceName": "Amazon EC2",
    "RegionId": "us-east-1",
    "ResourceId": "i-0abc",
}


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def _ingest(client, h, rows):
    resp = client.post(
        "/api/v1/costs/ingest", json={"source": "test", "rows": rows}, headers=h.auth("agent")
    )
    assert resp.status_code == 200, resp.text


def _row(h, day, cost, **over):
    return h.cost_row(
        ChargePeriodStart=day, EffectiveCost=cost, BilledCost=cost, **{**LEAF, **over}
    )


def _executed_action(client, h, anomaly_id="anom-s", currency=None, impact=240.0):
    scope = {"ProviderName": "AWS", **({"BillingCurrency": currency} if currency else {})}
    anomaly = h.anomaly_body(
        anomaly_id,
        start=_day(-20),
        end=_day(-18),
        scope=scope,
        root_causes=[{**LEAF, "impact_usd": impact, "share": 1.0}],
    )
    assert client.post("/api/v1/anomalies", json=anomaly, headers=h.auth("agent")).is_success
    body = h.action_body(anomaly_id, estimated_monthly_saving_usd="2400.00")
    action = client.post("/api/v1/actions", json=body, headers=h.auth("agent")).json()
    client.post(f"/api/v1/actions/{action['id']}/approve", json={}, headers=h.auth("approver"))
    report = json.dumps(
        {"event": "execution_complete", "action_id": action["id"], "status": "executed",
         "result": {"summary": "stopped"}, "executor": "executor"}
    ).encode()  # fmt: skip
    headers = {"Content-Type": "application/json", **signed_headers(h.WEBHOOK_SECRET, report)}
    assert client.post("/api/v1/archestra/webhook", content=report, headers=headers).is_success
    return action["id"]


def test_realized_savings_follow_the_formula(client, h):
    rows = [_row(h, _day(d), "100") for d in (-20, -19, -18)]  # A = 300 over W = 3
    rows += [
        _row(h, _day(-21), "20"),  # before the window: not part of A
        _row(h, _day(1), "20"),
        _row(h, _day(1), "-5", ChargeCategory="Credit"),  # credits are left out
        _row(h, _day(1), "999", BillingCurrency="EUR"),  # another currency: not this scope
        _row(h, _day(2), "25", Tags={"team": "web"}),
        _row(h, _day(3), "7", ResourceId="i-other"),  # day 3 is loaded; the leaf cost nothing
    ]
    _ingest(client, h, rows)
    action_id = _executed_action(client, h)
    resp = client.get(f"/api/v1/actions/{action_id}/savings", headers=h.auth("viewer"))
    assert resp.status_code == 200, resp.text
    s = resp.json()
    assert s["measured"] is True and s["currency"] == "USD" and s["status"] == "executed"
    assert float(s["estimated_monthly_saving_usd"]) == 2400
    assert s["window_days"] == 3 and float(s["window_spend"]) == 300
    assert float(s["anomaly_excess"]) == 240
    assert float(s["expected_daily"]) == 20 and float(s["excess_daily"]) == 80
    assert float(s["counterfactual_daily"]) == 100
    assert [(d["day"], float(d["actual"]), float(d["realized"])) for d in s["daily"]] == [
        (_day(1), 20.0, 80.0),
        (_day(2), 25.0, 75.0),
        (_day(3), 0.0, 100.0),
    ]
    assert s["days_measured"] == 3 and float(s["realized_total"]) == 255
    assert s["scope"] == [LEAF]

    summary = client.get("/api/v1/savings", headers=h.auth("viewer")).json()
    assert [
        (t["currency"], float(t["realized"]), t["actions_measured"]) for t in summary["totals"]
    ] == [("USD", 255.0, 1)]
    assert float(summary["estimated_monthly_saving_usd"]["executed"]) == 2400


def test_unexecuted_and_unknown_actions(client, h):
    action = h.new_action(client)
    s = client.get(f"/api/v1/actions/{action['id']}/savings", headers=h.auth("viewer")).json()
    assert s["measured"] is False and s["realized_total"] is None
    assert "pending_approval" in s["note"]
    assert client.get("/api/v1/actions/999/savings", headers=h.auth("viewer")).status_code == 404
    assert client.get("/api/v1/savings").status_code == 401
    empty = client.get("/api/v1/savings", headers=h.auth("viewer")).json()
    assert empty["totals"] == [] and empty["actions_considered"] == 0


def test_totals_are_per_currency_never_summed_across(client, h):
    rows = [_row(h, _day(d), "50", BillingCurrency="EUR") for d in (-20, -19, -18)]
    rows += [_row(h, _day(1), "10", BillingCurrency="EUR")]
    rows += [_row(h, _day(d), "100") for d in (-20, -19, -18)] + [_row(h, _day(1), "40")]
    _ingest(client, h, rows)
    eur = _executed_action(client, h, "anom-eur", currency="EUR", impact=120.0)
    usd = _executed_action(client, h, "anom-usd")
    summary = client.get("/api/v1/savings", headers=h.auth("viewer")).json()
    totals = {t["currency"]: float(t["realized"]) for t in summary["totals"]}
    assert totals == {"EUR": 40.0, "USD": 60.0}
    per_action = {a["action_id"]: a["currency"] for a in summary["actions"]}
    assert per_action == {eur: "EUR", usd: "USD"}

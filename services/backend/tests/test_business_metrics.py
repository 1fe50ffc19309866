"""Business gauges at scrape time (spend, anomalies, actions, savings) and the outbox delivery
histogram, read back from ``GET /metrics``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from costguard_backend.outbox import OutboxWorker
from costguard_core.signing import signed_headers
from prometheus_client.parser import text_string_to_metric_families


def _samples(client) -> dict[tuple[str, tuple], float]:
    text = client.get("/metrics").text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def test_business_gauges(client, h, settings, engine):
    leaf = {"ResourceId": "i-0abc", "BillingAccountId": None, "SubAccountId": None}
    rows = [h.cost_row(ChargePeriodStart=_day(d), EffectiveCost="60", **leaf) for d in (-9, -8)]
    rows += [
        h.cost_row(ChargePeriodStart=_day(1), EffectiveCost="10.25", **leaf),
        h.cost_row(ChargePeriodStart=_day(1), EffectiveCost="4", ServiceName="Amazon S3"),
        h.cost_row(ChargePeriodStart=_day(1), EffectiveCost="1", ServiceName="Amazon S3",
                   RegionId="eu-west-1"),
        h.cost_row(ChargePeriodStart=_day(2), EffectiveCost="99", BillingCurrency="EUR"),
    ]  # fmt: skip
    ingest = {"source": "t", "rows": rows}
    assert client.post("/api/v1/costs/ingest", json=ingest, headers=h.auth("agent")).is_success
    anomaly = h.anomaly_body("m-1", start=_day(-9), end=_day(-8))  # root cause i-0abc, no accounts
    client.post("/api/v1/anomalies", json=anomaly, headers=h.auth("agent"))
    low = h.anomaly_body("m-2", severity="low")
    client.post("/api/v1/anomalies", json=low, headers=h.auth("agent"))
    executed = client.post("/api/v1/actions", json=h.action_body("m-1"), headers=h.auth("agent"))
    pending = client.post(
        "/api/v1/actions",
        json=h.action_body("m-2", estimated_monthly_saving_usd="10.50"),
        headers=h.auth("agent"),
    )
    action_id = executed.json()["id"]
    client.post(f"/api/v1/actions/{action_id}/approve", json={}, headers=h.auth("approver"))
    report = json.dumps(
        {"event": "execution_complete", "action_id": action_id, "status": "executed",
         "result": {"summary": "ok"}, "executor": "executor"}
    ).encode()  # fmt: skip
    headers = {"Content-Type": "application/json", **signed_headers(h.WEBHOOK_SECRET, report)}
    assert client.post("/api/v1/archestra/webhook", content=report, headers=headers).is_success
    assert pending.status_code == 201
    OutboxWorker(engine, settings).deliver_due()  # Slack not configured: logged, delivered

    s = _samples(client)
    # Newest USD day is day +1 (the EUR row of day +2 is another currency).
    assert (
        s[("costguard_daily_spend_usd", (("provider", "AWS"), ("service", "Amazon EC2")))] == 10.25
    )
    assert s[("costguard_daily_spend_usd", (("provider", "AWS"), ("service", "Amazon S3")))] == 5
    assert s[("costguard_anomalies", (("severity", "high"), ("status", "open")))] == 1
    assert s[("costguard_anomalies", (("severity", "low"), ("status", "open")))] == 1
    assert s[("costguard_actions", (("status", "executed"),))] == 1
    assert s[("costguard_actions", (("status", "pending_approval"),))] == 1
    assert s[("costguard_actions", (("status", "failed"),))] == 0
    est = "costguard_savings_estimated_monthly_usd"
    assert s[(est, (("status", "executed"),))] == 1234.56
    assert s[(est, (("status", "pending_approval"),))] == 10.5
    label = (("action_id", str(action_id)),)
    # C = A / W = 120 / 2 = 60 per day; day +1 cost 10.25 -> realized 49.75.
    assert s[("costguard_action_expected_spend_usd", label)] == 60
    assert s[("costguard_action_scope_spend_usd", label)] == 10.25
    assert s[("costguard_savings_realized_usd", label)] == 49.75
    executed_at = s[("costguard_action_executed_timestamp_seconds", label)]
    assert abs(executed_at - datetime.now(UTC).timestamp()) < 120
    hist = "costguard_outbox_delivery_duration_seconds_count"
    assert s[(hist, (("kind", "approval_requested"), ("result", "delivered")))] >= 2


def test_unbound_collector_exports_empty_families():
    # No app is running here: the families are still exported (names for the dashboards' check),
    # without samples, and no database is touched.
    from costguard_backend.metrics_collectors import COLLECTOR

    families = list(COLLECTOR.collect())
    assert {f.name for f in families} >= {
        "costguard_daily_spend_usd",
        "costguard_anomalies",
        "costguard_actions",
        "costguard_savings_realized_usd",
    }
    assert all(not f.samples for f in families)

"""Detective: the frame it builds, and a pass against the fake backend (two currencies)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import httpx
from agents_testkit import FakeBackend
from costguard_agents.config import DetectiveSettings
from costguard_agents.detective import FRAME_COLUMNS, costs_frame, run_once
from costguard_agents.detective.__main__ import create_app
from costguard_core.client import BackendClient
from costguard_core.models import CostRow
from fastapi.testclient import TestClient

DAY0 = date(2026, 8, 1)
SPIKE_DAYS = range(35, 38)
EC2 = "i-0123456789abcdef0"


def rows(currency: str, account: str) -> list[CostRow]:
    """42 days of steady spend on two leaves; the EC2 instance costs +400/day on days 35-37."""
    out = []
    for d in range(42):
        for service, rid, base in (
            ("Amazon Elastic Compute Cloud", EC2, 100),
            ("Amazon S3", "b1", 40),
        ):
            cost = Decimal(base) + Decimal(d * 7 % 5) / 10
            if rid == EC2 and d in SPIKE_DAYS:
                cost += 400
            out.append(
                CostRow(
                    ChargePeriodStart=DAY0 + timedelta(days=d),
                    ProviderName="AWS",
                    BillingAccountId=account,
                    SubAccountId=account,
                    ServiceName=service,
                    RegionId="us-east-1",
                    ResourceId=rid,
                    BillingCurrency=currency,
                    Tags={"team": "web", "env": "prod"},
                    BilledCost=cost,
                    EffectiveCost=cost,
                )
            )
    return out


def test_costs_frame_columns_and_types():
    frame = costs_frame(rows("USD", "111111111111")[:2])
    assert tuple(frame.columns) == FRAME_COLUMNS
    first = frame.iloc[0]
    assert first["ChargePeriodStart"] == DAY0
    assert first["EffectiveCost"] == Decimal("100.0") and isinstance(first["BilledCost"], Decimal)
    assert first["ListCost"] is None
    assert first["Tags"] == json.dumps({"env": "prod", "team": "web"}, separators=(",", ":"))
    assert tuple(costs_frame([]).columns) == FRAME_COLUMNS


def seeded(backend: FakeBackend) -> None:
    for r in rows("USD", "111111111111") + rows("EUR", "222222222222"):
        backend.costs.append(r.model_dump(mode="json"))


def test_run_once_detects_per_currency_and_is_idempotent(backend):
    seeded(backend)
    with BackendClient(backend.url, backend.api_key) as client:
        posted = run_once(client)
        by_currency = {a.scope.get("BillingCurrency", "USD") for a in posted}
        assert by_currency == {"USD", "EUR"}
        assert len({a.id for a in posted}) == len(posted) == len(backend.anomalies)
        for a in posted:
            assert a.start == DAY0 + timedelta(days=SPIKE_DAYS[0])
            assert a.root_causes[0].ResourceId == EC2
            # excess summed over the spike days, in the anomaly's own currency
            assert 1150 < a.impact_usd < 1250
        eur = [a for a in posted if a.scope.get("BillingCurrency") == "EUR"]
        assert all(a.root_causes[0].SubAccountId == "222222222222" for a in eur)
        again = run_once(client)
    assert sorted(a.id for a in again) == sorted(a.id for a in posted)
    assert len(backend.anomalies) == len(posted)


def test_a_later_pass_revises_a_growing_incident(backend):
    """Pass 1 sees the spike's first two days, pass 2 all three: one anomaly, whose end and
    impact are the later pass's (session 11; before, the first pass's figures stayed)."""
    usd = rows("USD", "111111111111")
    with BackendClient(backend.url, backend.api_key) as client:
        cut = DAY0 + timedelta(days=SPIKE_DAYS[1])
        backend.costs.extend(r.model_dump(mode="json") for r in usd if r.ChargePeriodStart <= cut)
        [first] = run_once(client)
        assert first.end == cut and 750 < first.impact_usd < 850
        backend.costs.extend(r.model_dump(mode="json") for r in usd if r.ChargePeriodStart > cut)
        [second] = run_once(client)
    assert second.id == first.id and list(backend.anomalies) == [first.id]
    assert second.end == DAY0 + timedelta(days=SPIKE_DAYS[-1])
    assert 1150 < second.impact_usd < 1250
    assert backend.anomalies[first.id]["impact_usd"] == second.impact_usd


def test_run_once_since_and_empty(backend):
    with BackendClient(backend.url, backend.api_key) as client:
        assert run_once(client) == []
        seeded(backend)
        assert run_once(client, since=DAY0 + timedelta(days=SPIKE_DAYS[-1])) == []


def test_http_run_and_backend_failure(backend):
    seeded(backend)
    settings = DetectiveSettings(BACKEND_URL=backend.url, COSTGUARD_API_KEY=backend.api_key)
    with TestClient(create_app(settings)) as http:
        answer = http.post("/run")
        assert answer.status_code == 200
        assert {a["id"] for a in answer.json()} == set(backend.anomalies)
        assert http.get("/healthz").json()["last_count"] == len(backend.anomalies)
    wrong_key = DetectiveSettings(BACKEND_URL=backend.url, COSTGUARD_API_KEY="nope")
    with TestClient(create_app(wrong_key)) as http:
        failed = http.post("/run")
        assert failed.status_code == 502
        assert "401" in failed.json()["detail"]["message"]
        assert http.get("/healthz").json()["last_error"].startswith("BackendError")
    assert httpx.get(f"{backend.url}/api/v1/costs").status_code == 401


def test_http_run_since_limits_the_report(backend):
    seeded(backend)
    settings = DetectiveSettings(BACKEND_URL=backend.url, COSTGUARD_API_KEY=backend.api_key)
    spike = DAY0 + timedelta(days=SPIKE_DAYS[0])
    with TestClient(create_app(settings)) as http:
        assert http.post("/run", params={"since": str(spike + timedelta(days=1))}).json() == []
        assert backend.anomalies == {}
        found = http.post("/run", params={"since": str(spike)}).json()
        assert found and {a["start"] for a in found} == {str(spike)}
        assert http.post("/run", params={"since": "not-a-day"}).status_code == 422

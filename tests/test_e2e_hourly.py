"""Hourly detection end to end: a model switch at Saturday 02:00 UTC is flagged Saturday morning.

Backend and detective run as their own processes (SQLite and PostgreSQL). Nine weeks of hourly
LLM usage for a support bot (gpt-4o-mini, office-hours shape, quieter weekends) plus a steady
FOCUS hourly EC2 source are posted; at Saturday 02:00 the bot is switched to gpt-4o (~17x the
price per token). The data arrives the way a gateway pushes it, hour by hour, and the detective
runs after each delivery: with hours up to 03:00 nothing is raised (one hour is not an
incident), with hours up to 09:00 exactly one anomaly is, ``detected_at`` Saturday morning,
root cause the model; later passes, also once the Saturday has closed and the daily path sees
it, post nothing new.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import pytest
from costguard_core.client import BackendClient
from costguard_core.models import CostHourlyRow

FIRST_DAY = date(2026, 8, 3)  # a Monday
WEEKS = 9
SATURDAY = datetime.combine(
    FIRST_DAY + timedelta(weeks=WEEKS - 1, days=5), datetime.min.time(), UTC
)
SWITCH = SATURDAY + timedelta(hours=2)
PROJECT = "support-bot"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"  # as tests/conftest.py


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own (the session's shared PostgreSQL database holds the
    other end-to-end tests' anomalies)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hourly.db'}"
        return
    name = f"costguard_e2e_hourly_{secrets.token_hex(6)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _hours(start: datetime, end: datetime):
    t = start
    while t < end:
        yield t
        t += timedelta(hours=1)


def usage(start: datetime, end: datetime) -> list[dict]:
    """The bot's usage records in ``[start, end)``: one per hour, at a minute within it, tokens
    priced from the repo's table (gpt-4o-mini ~USD 3/h on weekday afternoons; gpt-4o ~17x)."""
    out = []
    for t in _hours(start, end):
        rng = random.Random(t.isoformat())
        office = 0.4 + (1.0 if 7 <= t.hour <= 19 else 0.0)
        weekend = 0.6 if t.weekday() >= 5 else 1.0
        tokens = int(10_000_000 * office * weekend * rng.uniform(0.85, 1.15))
        out.append({
            "provider": "openai",
            "model": "gpt-4o" if t >= SWITCH else "gpt-4o-mini",
            "project": PROJECT,
            "timestamp": (t + timedelta(minutes=rng.randrange(60))).isoformat(),
            "input_tokens": tokens,
            "output_tokens": tokens // 4,
            "requests": 100,
        })  # fmt: skip
    return out


def ec2_hours(start: datetime, end: datetime) -> list[CostHourlyRow]:
    """A steady FOCUS hourly source (USD 2.5-2.6 per hour on one instance)."""
    return [
        CostHourlyRow(
            ChargePeriodStart=t,
            ProviderName="AWS",
            BillingAccountId="111111111111",
            SubAccountId="222222222222",
            ServiceName="Amazon Elastic Compute Cloud",
            RegionId="us-east-1",
            ResourceId="i-0web",
            BillingCurrency="USD",
            BilledCost=Decimal("2.5") + Decimal(t.hour % 3) / 20,
            EffectiveCost=Decimal("2.5") + Decimal(t.hour % 3) / 20,
        )
        for t in _hours(start, end)
    ]


def deliver(stack, agent: BackendClient, keys, start: datetime, end: datetime) -> None:
    body = usage(start, end)
    resp = httpx.post(
        stack.urls["backend"] + "/api/v1/llm-usage",
        json=body,
        headers={"Authorization": f"Bearer {keys['agent']}"},
        timeout=120,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["received"] == len(body)  # one hourly row per record (one per hour)
    assert agent.ingest_hourly("aws-cur-hourly", ec2_hours(start, end)).received == (
        (end - start) // timedelta(hours=1)
    )


def detective_pass(stack) -> list[dict]:
    resp = httpx.post(stack.urls["detective"] + "/run", timeout=300)
    return resp.raise_for_status().json()


def test_saturday_0200_model_switch_is_flagged_saturday_morning(
    tmp_path: Path, database_url: str, make_stack, keys
) -> None:
    first = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    with make_stack(tmp_path, database_url, services=("backend", "detective")) as stack:
        stack.start()
        agent = BackendClient(stack.urls["backend"], keys["agent"])
        viewer = BackendClient(stack.urls["backend"], keys["viewer"])

        deliver(stack, agent, keys, first, SATURDAY + timedelta(hours=3))
        detective_pass(stack)
        assert viewer.list_anomalies()[1] == 0  # 02:00 alone: one hour is not an incident

        deliver(stack, agent, keys, SATURDAY + timedelta(hours=3), SATURDAY + timedelta(hours=9))
        detective_pass(stack)
        [anomaly], count = viewer.list_anomalies()
        assert count == 1
        assert anomaly.start == SATURDAY.date()
        assert anomaly.detected_at is not None
        assert SWITCH < anomaly.detected_at <= SATURDAY + timedelta(hours=9)
        top = anomaly.root_causes[0]
        assert (top.ProviderName, top.SubAccountId, top.ResourceId) == ("openai", PROJECT, "gpt-4o")
        assert viewer.get_anomaly(anomaly.id).detected_at == anomaly.detected_at

        # The daily rows the daily detector, dashboard and savings read are the exact hour sums.
        hours = viewer.all_hourly(since=SATURDAY)
        assert {h.ResourceId for h in hours} == {"gpt-4o", "gpt-4o-mini", "i-0web"}
        days = {
            (r.ResourceId, r.ChargePeriodStart): r.EffectiveCost
            for r in viewer.all_costs(start=SATURDAY.date())
        }
        sums: dict = {}
        for h in hours:
            key = (h.ResourceId, h.ChargePeriodStart.date())
            sums[key] = sums.get(key, Decimal(0)) + h.EffectiveCost
        assert days == sums

        again = detective_pass(stack)
        assert {a["id"] for a in again} <= {anomaly.id}
        assert viewer.list_anomalies()[1] == 1

        # The Saturday closes and Sunday follows: the daily path now sees the whole day too.
        deliver(stack, agent, keys, SATURDAY + timedelta(hours=9), SATURDAY + timedelta(days=2))
        detective_pass(stack)
        [still], count = viewer.list_anomalies()
        assert count == 1 and still.id == anomaly.id and still.detected_at == anomaly.detected_at

"""Detective, hourly path: the one-incident-one-anomaly rule, and passes against the fake backend
serving hourly rows (a BigQuery loop from Saturday 02:00)."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from agents_testkit import anomaly, cause
from costguard_agents.detective import run_once
from costguard_agents.detective.hourly import fetch_hourly
from costguard_agents.detective.incidents import one_per_incident, same_incident
from costguard_core.client import BackendClient
from costguard_core.detection import DetectorConfig
from costguard_core.models import AnomalyCreate, AnomalyPost, CostHourlyRow, CostRow

SAT = date(2026, 10, 3)
ETL = cause(ProviderName="Google Cloud", ServiceName="BigQuery", ResourceId="etl", share=1.0)
WEB = cause(ResourceId="i-web", share=1.0)


def candidate(id_: str, causes=(ETL,), start=SAT, end=SAT, scope=None, hourly=False):
    body = anomaly(list(causes), id=id_, start=start, end=end, scope=scope or {}).model_dump(
        exclude={"status", "created_at", "detected_at"}
    )
    if hourly:
        at = datetime.combine(start, datetime.min.time(), UTC) + timedelta(hours=4)
        return AnomalyPost(**body, detected_at=at)
    return AnomalyCreate(**body)


def test_both_paths_new_in_one_pass_post_the_hourly_one():
    hourly, daily = candidate("h1", hourly=True), candidate("d1", scope={"ServiceName": "BigQuery"})
    post, left_out = one_per_incident([hourly, daily], [], cooldown_days=7)
    assert [a.id for a in post] == ["h1"]
    assert [(a.id, same) for a, same in left_out] == [("d1", "h1")]
    # Both paths may give the same id (same scope): posted once, the hourly one first.
    post, left_out = one_per_incident([hourly, candidate("h1")], [], cooldown_days=7)
    assert post == [hourly] and left_out == []


def test_stored_incident_under_another_id_is_not_posted_again():
    stored = [anomaly([ETL], id="d1", start=SAT, end=SAT)]
    later = candidate("h2", start=SAT + timedelta(days=3), end=SAT + timedelta(days=4))
    post, left_out = one_per_incident([candidate("h1", hourly=True), later], stored, 7)
    assert post == [] and [same for _, same in left_out] == ["d1", "d1"]
    # Its own id again is re-posted (the backend answers the stored one unchanged).
    post, _ = one_per_incident([candidate("d1")], stored, 7)
    assert [a.id for a in post] == ["d1"]


def test_other_incidents_are_posted():
    stored = [anomaly([ETL], id="d1", start=SAT, end=SAT)]
    other_leaf = candidate("x1", causes=(WEB,))
    eur = candidate("x2", scope={"BillingCurrency": "EUR"})
    after_cooldown = candidate("x3", start=SAT + timedelta(days=8), end=SAT + timedelta(days=8))
    post, left_out = one_per_incident([other_leaf, eur, after_cooldown], stored, 7)
    assert [a.id for a in post] == ["x1", "x2", "x3"] and left_out == []
    # Within the cooldown of its end it is the same incident flaring again.
    assert same_incident(stored[0], candidate("x4", start=SAT + timedelta(days=7)), 7)
    assert not same_incident(stored[0], candidate("x5", start=SAT + timedelta(days=7)), 6)


# -- passes against the fake backend -------------------------------------------------------------
FIRST = datetime(2026, 8, 3, tzinfo=UTC)  # a Monday, nine weeks before SAT
LOOP = datetime.combine(SAT, datetime.min.time(), UTC) + timedelta(hours=2)
LEAVES = [  # provider, service, resource, USD per weekday hour, weekend factor
    ("Google Cloud", "BigQuery", "etl", 5.0, 0.3),
    ("AWS", "Amazon Elastic Compute Cloud", "i-web", 8.0, 0.9),
]


def hours_until(end: datetime) -> list[CostHourlyRow]:
    rows, t = [], FIRST
    while t < end:
        rng = random.Random(t.isoformat())
        for provider, service, resource, usd, weekend in LEAVES:
            cost = usd * (weekend if t.weekday() >= 5 else 1.0) * rng.uniform(0.9, 1.1)
            if resource == "etl" and t >= LOOP:
                cost += 30.0
            rows.append(
                CostHourlyRow(
                    ChargePeriodStart=t, ProviderName=provider, SubAccountId="acct",
                    ServiceName=service, ResourceId=resource, BillingCurrency="USD",
                    BilledCost=Decimal(f"{cost:.4f}"), EffectiveCost=Decimal(f"{cost:.4f}"),
                )
            )  # fmt: skip
        t += timedelta(hours=1)
    return rows


def serve(backend, hours: list[CostHourlyRow]) -> None:
    """Hourly rows and their day sums (as the backend's roll-up keeps them)."""
    days: dict[tuple, Decimal] = defaultdict(Decimal)
    sample: dict[tuple, CostHourlyRow] = {}
    for h in hours:
        key = (h.ChargePeriodStart.date(), h.ResourceId)
        days[key] += h.EffectiveCost
        sample[key] = h
    backend.hourly = [h.model_dump(mode="json") for h in hours]
    backend.costs = [
        CostRow(
            **sample[key].model_dump(exclude={"ChargePeriodStart", "BilledCost", "EffectiveCost"}),
            ChargePeriodStart=key[0], BilledCost=total, EffectiveCost=total,
        ).model_dump(mode="json")
        for key, total in days.items()
    ]  # fmt: skip


def test_pass_raises_the_loop_saturday_morning_once(backend):
    serve(backend, hours_until(LOOP + timedelta(hours=7)))  # up to Saturday 09:00
    with BackendClient(backend.url, backend.api_key) as client:
        [posted] = run_once(client)
        again = run_once(client)
    assert posted.start == SAT and posted.root_causes[0].ResourceId == "etl"
    assert posted.detected_at is not None
    assert LOOP < posted.detected_at <= LOOP + timedelta(hours=7)
    assert [a.id for a in again] == [posted.id] and list(backend.anomalies) == [posted.id]
    # Hourly rows were read from report_from (the day before the newest) minus the look-back.
    since = datetime.fromisoformat(backend.hourly_queries[0]["since"])
    assert since == datetime.combine(SAT, datetime.min.time(), UTC) - timedelta(days=1 + 294)


def test_pass_leaves_out_an_incident_stored_under_another_id(backend):
    serve(backend, hours_until(LOOP + timedelta(hours=7)))
    earlier = anomaly([ETL.model_copy(update={"SubAccountId": "acct"})], id="daily-id", start=SAT)
    backend.anomalies["daily-id"] = earlier.model_dump(mode="json")
    with BackendClient(backend.url, backend.api_key) as client:
        assert run_once(client) == []
    assert list(backend.anomalies) == ["daily-id"]


def test_a_loop_raised_saturday_morning_is_revised_as_it_goes_on(backend):
    """Session 11. Saturday 09:00 the hourly path raises the loop; on Tuesday the pass posts the
    same id again with the loop's later end and three days of impact, and the stored anomaly is
    revised to them (before, it kept Saturday morning's figures); start, scope and detected_at
    stay those of the first raise."""
    serve(backend, hours_until(LOOP + timedelta(hours=7)))
    with BackendClient(backend.url, backend.api_key) as client:
        [first] = run_once(client)
        serve(backend, hours_until(LOOP + timedelta(days=3)))  # up to Tuesday 02:00
        [again] = run_once(client)
    assert again.id == first.id and list(backend.anomalies) == [first.id]
    assert again.end > first.end and again.impact_usd > 2 * first.impact_usd
    stored = backend.anomalies[first.id]
    assert stored["end"] == again.end.isoformat() and stored["impact_usd"] == again.impact_usd
    assert stored["start"] == first.start.isoformat() and stored["scope"] == first.scope
    assert again.detected_at == first.detected_at


def test_fetch_window_and_backend_without_hourly_route(backend):
    hours = hours_until(LOOP + timedelta(hours=7))
    serve(backend, hours)
    with BackendClient(backend.url, backend.api_key) as client:
        config = DetectorConfig()
        rows, report_from = fetch_hourly(client, newest_day=SAT, since=None, config=config)
        assert report_from == SAT - timedelta(days=1) and len(rows) == len(hours)
        rows, report_from = fetch_hourly(
            client, newest_day=SAT, since=SAT - timedelta(days=14), config=config
        )
        assert report_from == SAT - timedelta(days=14)
        backend.hourly = None
        assert fetch_hourly(client, newest_day=SAT, since=None, config=config) == ([], None)

"""Hourly cost ingest: idempotency, restatement, the exact daily roll-up, refusals that name the
row and field and store nothing, listing, roles."""

from __future__ import annotations

from decimal import Context, Decimal, localcontext

import sqlalchemy as sa

URL = "/api/v1/costs/ingest-hourly"


def hour_row(h, hour: str, **overrides):
    """``h.cost_row`` with ``ChargePeriodStart`` an hour (``"2025-03-01T02:00:00Z"``)."""
    return h.cost_row(ChargePeriodStart=hour, **overrides)


def _post(client, h, rows, source="focus-hourly", role="agent"):
    return client.post(URL, json={"source": source, "rows": rows}, headers=h.auth(role))


def _daily(client, h, **params):
    resp = client.get("/api/v1/costs", params=params, headers=h.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return resp.json()["data"]


def _hourly(client, h, **params):
    resp = client.get("/api/v1/costs/hourly", params=params, headers=h.auth("viewer"))
    assert resp.status_code == 200, resp.text
    return resp.json()


def _counts(result):
    return (result["received"], result["inserted"], result["updated"], result["unchanged"])


def _count(engine, table):
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()


# Costs at full scale (24 places) so any float or 28-digit rounding would show in the sums.
HOURS = {
    "2025-03-01T00:00:00Z": ("1.000000000000000000000001", "0.9", "1.1"),
    "2025-03-01T02:00:00Z": ("12345678901.123456789012345678901234", "2.5", "3"),
    "2025-03-01T23:00:00Z": ("0.333333333333333333333333", "0.000000000000000000000001", "0"),
}


def _rows(h, hours=HOURS, **overrides):
    return [
        hour_row(h, hour, BilledCost=b, EffectiveCost=e, ListCost=lst, **overrides)
        for hour, (b, e, lst) in hours.items()
    ]


def _sum(i, hours=HOURS):
    with localcontext(Context(prec=80)):  # the default 28 digits would round these sums
        return sum((Decimal(v[i]) for v in hours.values()), Decimal(0))


def test_hours_roll_up_into_exact_daily_rows(client, h, engine):
    result = _post(client, h, _rows(h)).json()
    assert _counts(result) == (3, 3, 0, 0)
    [day] = _daily(client, h)
    assert day["ChargePeriodStart"] == "2025-03-01"
    assert Decimal(day["BilledCost"]) == _sum(0) == Decimal("12345678902.456790122345679012234568")
    assert Decimal(day["EffectiveCost"]) == _sum(1) == Decimal("3.400000000000000000000001")
    assert Decimal(day["ListCost"]) == _sum(2) == Decimal("4.1")
    assert {k: day[k] for k in ("ServiceName", "SubAccountId", "Tags")} == {
        "ServiceName": "Amazon EC2",
        "SubAccountId": "222222222222",
        "Tags": {"team": "data"},
    }
    hours = _hourly(client, h)
    assert hours["count"] == 3
    assert [r["ChargePeriodStart"] for r in hours["data"]] == [
        "2025-03-01T00:00:00Z",
        "2025-03-01T02:00:00Z",
        "2025-03-01T23:00:00Z",
    ]
    assert Decimal(hours["data"][1]["BilledCost"]) == Decimal(HOURS["2025-03-01T02:00:00Z"][0])
    assert (_count(engine, "cost_hourly"), _count(engine, "cost_daily")) == (3, 1)


def test_repost_is_idempotent_and_restatement_restates_the_day(client, h, engine):
    _post(client, h, _rows(h))
    again = _post(client, h, _rows(h), role="admin").json()
    assert _counts(again) == (3, 0, 0, 3)
    # The same totals written differently are not a change either.
    same = {k: (b + "0", e + "000", lst) for k, (b, e, lst) in HOURS.items()}
    assert _counts(_post(client, h, _rows(h, same)).json()) == (3, 0, 0, 3)
    with engine.connect() as conn:
        detail = conn.execute(
            sa.text("SELECT detail FROM audit_event WHERE action = 'ingest' ORDER BY id DESC")
        ).first()[0]
    detail = detail if isinstance(detail, dict) else __import__("json").loads(detail)
    assert detail["daily_rollup"] == {"inserted": 0, "updated": 0}
    [day] = _daily(client, h)
    assert Decimal(day["BilledCost"]) == _sum(0)

    restated = dict(HOURS) | {"2025-03-01T02:00:00Z": ("7.25", "2.5", "3")}
    result = _post(client, h, _rows(h, {"2025-03-01T02:00:00Z": restated["2025-03-01T02:00:00Z"]}))
    assert _counts(result.json()) == (1, 0, 1, 0)
    [day] = _daily(client, h)
    # The day is the sum of every stored hour, not only of the batch's.
    assert Decimal(day["BilledCost"]) == _sum(0, restated) == Decimal("8.583333333333333333333334")
    assert (_count(engine, "cost_hourly"), _count(engine, "cost_daily")) == (3, 1)


def test_hours_land_on_their_utc_day_per_leaf_and_source(client, h):
    rows = [
        # 01:00 at +02:00 is 23:00 UTC the day before.
        hour_row(h, "2025-03-02T01:00:00+02:00", BilledCost="1", EffectiveCost="1"),
        hour_row(h, "2025-03-02T00:00:00Z", BilledCost="2", EffectiveCost="2"),
        hour_row(h, "2025-03-02T05:00:00Z", BilledCost="4", EffectiveCost="4", Tags={"t": "x"}),
        # ListCost missing in one hour of this leaf-day: the day's ListCost is unknown.
        hour_row(h, "2025-03-02T06:00:00Z", BilledCost="8", EffectiveCost="8", ListCost="8"),
    ]
    assert _post(client, h, rows).json()["inserted"] == 4
    assert _post(client, h, [rows[0]], source="other").json()["inserted"] == 1
    got = {
        (r["ChargePeriodStart"], r["Tags"].get("t"), r["BilledCost"], r["ListCost"])
        for r in _daily(client, h)
    }
    assert (
        got
        == {
            ("2025-03-01", None, "1", None),  # focus-hourly
            ("2025-03-01", None, "1", None),  # other (same leaf, its own source)
            ("2025-03-02", None, "10", None),
            ("2025-03-02", "x", "4", None),
        }
        and len(_daily(client, h)) == 4
    )
    assert _hourly(client, h)["data"][0]["ChargePeriodStart"] == "2025-03-01T23:00:00Z"


def test_daily_rows_of_an_hourly_leaf_day(client, h, engine):
    """A daily row posted before the hours is replaced by their sum; one posted after them (or in
    the same batch as them) is refused naming it; other leaves and sources are untouched."""
    daily = {"source": "focus-hourly", "rows": [h.cost_row(BilledCost="100")]}
    other_leaf = h.cost_row(ServiceName="Amazon S3", BilledCost="5")
    assert client.post("/api/v1/costs/ingest", json=daily, headers=h.auth("agent")).is_success
    _post(client, h, _rows(h))
    by_service = {r["ServiceName"]: r for r in _daily(client, h)}
    assert Decimal(by_service["Amazon EC2"]["BilledCost"]) == _sum(0)

    again = {"source": "focus-hourly", "rows": [other_leaf, h.cost_row(BilledCost="100")]}
    resp = client.post("/api/v1/costs/ingest", json=again, headers=h.auth("agent"))
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert (detail["field"], detail["row"]) == ("rows[1].ChargePeriodStart", 1)
    assert "hourly rows" in detail["message"] and "ingest-hourly" in detail["message"]
    assert len(_daily(client, h)) == 1  # nothing of the refused batch (not even the S3 row)
    ok = {"source": "focus-hourly", "rows": [other_leaf]}
    assert client.post("/api/v1/costs/ingest", json=ok, headers=h.auth("agent")).is_success
    elsewhere = {"source": "daily-export", "rows": [h.cost_row(BilledCost="100")]}
    assert client.post("/api/v1/costs/ingest", json=elsewhere, headers=h.auth("agent")).is_success
    rows = _daily(client, h)
    assert sorted(Decimal(r["BilledCost"]) for r in rows) == sorted(
        [Decimal(5), Decimal(100), _sum(0)]
    )


def test_bad_hour_is_named_and_stores_nothing(client, h, engine):
    good = hour_row(h, "2025-03-01T01:00:00Z")
    cases = [
        ("2025-03-01T02:30:00Z", "not the start of a UTC hour"),
        ("2025-03-01T02:00:05Z", "not the start of a UTC hour"),
        ("2025-03-01T02:00:00+05:30", "not the start of a UTC hour"),
        ("2025-03-01T02:00:00", "no UTC offset"),
        ("2025-03-01", "no UTC offset"),
    ]
    for stamp, message in cases:
        resp = _post(client, h, [good, hour_row(h, stamp)])
        assert resp.status_code == 422, (stamp, resp.text)
        [err] = resp.json()["detail"]
        assert err["loc"] == ["body", "rows", 1, "ChargePeriodStart"], err
        assert message in err["msg"], err
    too_big = [hour_row(h, f"2025-03-01T0{i}:00:00Z", BilledCost="99999999999999") for i in (1, 2)]
    resp = _post(client, h, too_big)
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert detail["field"] == "rows[0].BilledCost" and "sum of hours" in detail["message"]
    assert (_count(engine, "cost_hourly"), _count(engine, "cost_daily")) == (0, 0)
    assert _count(engine, "ingestion") == 0


def test_listing_since_until_and_pages(client, h):
    rows = [hour_row(h, f"2025-03-01T{i:02d}:00:00Z", ServiceName=s) for i in (5, 6) for s in "BA"]
    _post(client, h, rows)
    page = _hourly(client, h, since="2025-03-01T06:00:00Z", limit=1, offset=1)
    assert page["count"] == 2
    assert [(r["ChargePeriodStart"], r["ServiceName"]) for r in page["data"]] == [
        ("2025-03-01T06:00:00Z", "B")
    ]
    until = _hourly(client, h, until="2025-03-01T06:00:00+00:00")
    assert [r["ServiceName"] for r in until["data"]] == ["A", "B"]
    resp = client.get(
        "/api/v1/costs/hourly", params={"since": "2025-03-01T06:00:00"}, headers=h.auth("viewer")
    )
    assert resp.status_code == 422  # a time without its zone is refused, not guessed


def test_roles(client, h):
    rows = [hour_row(h, "2025-03-01T01:00:00Z")]
    assert _post(client, h, rows, role="viewer").status_code == 403
    assert _post(client, h, rows, role="approver").status_code == 403
    assert client.post(URL, json={"source": "x", "rows": rows}).status_code == 401
    assert client.get("/api/v1/costs/hourly").status_code == 401
    assert _post(client, h, rows, role="admin").status_code == 200


def test_anomaly_detected_at(client, h):
    hourly = h.anomaly_body("hourly-1", detected_at="2025-03-10T04:00:00Z")
    resp = client.post("/api/v1/anomalies", json=hourly, headers=h.auth("agent"))
    assert resp.status_code == 201 and resp.json()["detected_at"] == "2025-03-10T04:00:00Z"
    # Re-posting the id leaves the stored anomaly (and its detected_at) unchanged.
    later = hourly | {"detected_at": "2025-03-10T09:00:00Z"}
    resp = client.post("/api/v1/anomalies", json=later, headers=h.auth("agent"))
    assert resp.status_code == 200 and resp.json()["detected_at"] == "2025-03-10T04:00:00Z"
    daily = client.post(
        "/api/v1/anomalies", json=h.anomaly_body("daily-1"), headers=h.auth("agent")
    )
    assert daily.json()["detected_at"] is None
    listed = client.get("/api/v1/anomalies", headers=h.auth("viewer")).json()["data"]
    assert {a["id"]: a["detected_at"] for a in listed} == {
        "hourly-1": "2025-03-10T04:00:00Z",
        "daily-1": None,
    }
    naive = h.anomaly_body("hourly-2", detected_at="2025-03-10T04:00:00")
    resp = client.post("/api/v1/anomalies", json=naive, headers=h.auth("agent"))
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "detected_at"]


def test_a_daily_batch_racing_an_hourly_one_cannot_overwrite_the_sum(engine, h, monkeypatch):
    """Session 11. A daily batch checks that its day has no hourly rows, then writes; an hourly
    batch of the same source, day and leaf committing in between made the daily row the daily
    batch's cost instead of the sum of the hours. Both ingests now hold the source's lock
    (SQLite: the database's write lock, taken by their first write) from before that check, so
    the hourly batch waits and its roll-up replaces the daily row with the sum."""
    import threading

    from costguard_backend import ingest as ingest_module
    from costguard_core.models import CostHourlyRow, CostRow
    from sqlmodel import Session

    hours = [
        CostHourlyRow.model_validate(
            hour_row(h, f"2025-03-01T{k:02d}:00:00Z", EffectiveCost="2", BilledCost="2")
        )
        for k in range(3)
    ]
    daily = [CostRow.model_validate(h.cost_row(EffectiveCost="99", BilledCost="99"))]
    paused, hourly_done = threading.Event(), threading.Event()
    original = ingest_module.hourly_day_keys

    def slow_check(session, keys):
        found = original(session, keys)
        if keys:  # the daily batch: let the hourly one try to run in between
            paused.set()
            hourly_done.wait(1.5)
        return found

    monkeypatch.setattr(ingest_module, "hourly_day_keys", slow_check)

    def store(daily_rows, hourly_rows):
        with Session(engine, expire_on_commit=False) as session:
            ingest_module.store(
                session=session, source="s", daily=daily_rows, hourly=hourly_rows,
                actor="t", request_id=None, image_digest="d",
            )  # fmt: skip

    first = threading.Thread(target=store, args=(daily, ()))
    first.start()
    assert paused.wait(10)

    def hourly():
        store((), hours)
        hourly_done.set()

    second = threading.Thread(target=hourly)
    second.start()
    first.join(30)
    second.join(30)
    assert hourly_done.is_set() and not first.is_alive()
    with engine.connect() as conn:
        rows = conn.execute(sa.text('SELECT "EffectiveCost" FROM cost_daily')).all()
    assert [Decimal(str(r[0])) for r in rows] == [Decimal(6)]

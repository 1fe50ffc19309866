"""Hourly rows through the poller into a real backend process: an hourly FOCUS file
(``granularity: hour``) and an LLM usage file with timestamps go to ``ingest-hourly``; the
backend's daily rows are the exact sums of the hours; restatement re-sends every hour of the
window's days; a backend that is down gets the spooled batches (and a batch spooled by an older
poller, without an endpoint field) once it is back."""

from __future__ import annotations

import ast
import json
import subprocess
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import yaml
from costguard_core.focus import read_daily
from costguard_core.llm_pricing import LlmUsage, usage_hourly_rows
from costguard_core.models import CostRow

StartPoller = Callable[..., subprocess.Popen]
DAYS, SERVICES, ITEMS = 3, ("Amazon EC2", "Amazon S3"), 2  # line items per hour and service
FIRST = datetime(2025, 1, 1, tzinfo=UTC)
HEADER = (
    "ChargePeriodStart,ChargePeriodEnd,ProviderName,BillingAccountId,ServiceName,"
    "ChargeCategory,BillingCurrency,BilledCost,EffectiveCost\n"
)

Items = dict[tuple[datetime, str, int], Decimal]


def line_items() -> Items:
    """Costs of every line item: 18 decimal places, so any rounding shows."""
    items: Items = {}
    for h in range(DAYS * 24):
        for s, service in enumerate(SERVICES):
            for i in range(ITEMS):
                n = (h * 7919 + s * 104_729 + i * 13) * 12_345_678_901 % 10**18
                items[(FIRST + timedelta(hours=h), service, i)] = Decimal(f"{h % 5}.{n:018d}")
    return items


def write_focus(path: Path, items: Items) -> None:
    path.write_text(
        HEADER
        + "".join(
            f"{t:%Y-%m-%dT%H:%M:%SZ},{t + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ},AWS,111,"
            f"{service},Usage,USD,{cost},{cost}\n"
            for (t, service, _), cost in items.items()
        )
    )


def sums(items: Items, period: Callable[[datetime], object]) -> dict[tuple, Decimal]:
    out: dict[tuple, Decimal] = defaultdict(Decimal)
    for (t, service, _), cost in items.items():
        out[(period(t), service)] += cost
    return dict(out)


def write_config(tmp_path: Path, adapter: str, settings: dict, **top: object) -> Path:
    config = {
        "batch_size": 50,
        **top,
        "sources": [{"name": "src", "adapter": adapter, "settings": settings}],
    }
    path = tmp_path / "adapters.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def delivered(log: str) -> list[tuple[str, str, dict]]:
    """``(batch file, endpoint, IngestResult)`` of every delivery the poller logged."""
    out = []
    for line in log.splitlines():
        if " delivered to " in line:
            head, _, result = line.partition(": ")
            name, endpoint = head.split("batch ")[1].split(" delivered to ")
            out.append((name, endpoint, ast.literal_eval(result)))
    return out


def assert_stored(
    backend, items: Items, path: Path | None, daily: list[CostRow] | None = None
) -> None:
    """Hourly rows = ``items``' hours, daily rows (``daily``, default all stored) = the sums of
    those hours, all exact, each key once; and = the reader's daily rows of ``path``."""
    client = backend.client()
    hourly = client.all_hourly()
    assert len(hourly) == len({(r.ChargePeriodStart, r.ServiceName) for r in hourly})
    assert {(r.ChargePeriodStart, r.ServiceName): r.BilledCost for r in hourly} == sums(
        items, lambda t: t
    )
    assert all(r.BilledCost == r.EffectiveCost for r in hourly)
    daily = client.all_costs() if daily is None else daily
    want_days = sums(items, lambda t: t.date())
    assert len(daily) == len(want_days)
    assert {(r.ChargePeriodStart, r.ServiceName): r.BilledCost for r in daily} == want_days
    if path is None:
        return
    read = read_daily([path]).to_cost_rows()  # the reader's own daily sums agree
    assert {(r.ChargePeriodStart, r.ServiceName): r.EffectiveCost for r in daily} == {
        (r.ChargePeriodStart, r.ServiceName): r.EffectiveCost for r in read
    }


def test_hourly_focus_file_through_poller_and_restatement(
    any_backend, tmp_path: Path, start_poller: StartPoller
) -> None:
    any_backend.start()
    export, items = tmp_path / "focus-hourly.csv", line_items()
    write_focus(export, items)
    settings = {"paths": [str(export)], "granularity": "hour", "restatement_days": 1}
    config = write_config(tmp_path, "file", settings)
    log = tmp_path / "poller.log"
    assert start_poller(any_backend, config).wait(120) == 0, log.read_text()[-3000:]
    first = delivered(log.read_text())
    assert [(e, r["received"]) for _, e, r in first] == [
        ("ingest-hourly", 50),
        ("ingest-hourly", 50),
        ("ingest-hourly", 44),
    ]
    assert_stored(any_backend, items, export)
    marks = json.loads((tmp_path / "state" / "watermarks.json").read_text())
    assert marks["src"]["watermark"] == "2025-01-03"
    # Restated: one line item of Jan 3 05:00 (in the window, Jan 2-3) and one of Jan 1 (closed).
    jan3, jan1 = (FIRST + timedelta(days=2, hours=5), "Amazon S3", 1), (FIRST, "Amazon EC2", 0)
    restated = items | {jan3: items[jan3] + Decimal("0.000000000000000001"), jan1: Decimal(99)}
    write_focus(export, restated)
    assert start_poller(any_backend, config).wait(120) == 0, log.read_text()[-3000:]
    second = delivered(log.read_text())[len(first) :]
    assert sum(r["received"] for _, _, r in second) == 2 * 24 * len(SERVICES)  # every hour again
    assert sum(r["updated"] for _, _, r in second) == 1
    assert sum(r["inserted"] for _, _, r in second) == 0
    assert_stored(any_backend, items | {jan3: restated[jan3]}, None)  # Jan 1 left as it was


def test_backend_down_spools_hourly_batches_and_delivers_them_once(
    backend, tmp_path: Path, start_poller: StartPoller
) -> None:
    export, items = tmp_path / "focus-hourly.csv", line_items()
    write_focus(export, items)
    # A daily batch left in the spool by a poller from before the endpoint field.
    legacy_rows = [
        CostRow(
            ChargePeriodStart=date(2025, 1, d),
            ProviderName="Legacy",
            ServiceName="Legacy VM",
            BillingCurrency="USD",
            BilledCost="0.000000000000000000000001",
            EffectiveCost="2.5",
        )  # fmt: skip
        for d in (1, 2)
    ]
    spool = tmp_path / "state" / "spool"
    spool.mkdir(parents=True)
    legacy = {"source": "file:legacy", "rows": [r.model_dump(mode="json") for r in legacy_rows]}
    (spool / "000000000001.json").write_text(json.dumps(legacy))
    config = write_config(
        tmp_path,
        "file",
        {"paths": [str(export)], "granularity": "hour"},
        retry_attempts=2,
        retry_max_wait_s=0.1,
    )
    log = tmp_path / "poller.log"
    assert start_poller(backend, config).wait(120) == 3  # nothing listens on backend.port yet
    spooled = {p.name: json.loads(p.read_text()) for p in sorted(spool.glob("*.json"))}
    assert [b.get("endpoint") for b in spooled.values()] == [None] + ["ingest-hourly"] * 3
    assert sum(len(b["rows"]) for b in spooled.values()) == 2 + len(sums(items, lambda t: t))
    assert delivered(log.read_text()) == []
    backend.start()
    assert start_poller(backend, config).wait(120) == 0, log.read_text()[-3000:]
    assert not list(spool.glob("*.json")) and not list((spool / "rejected").iterdir())
    runs = delivered(log.read_text())
    # The spooled batches first, each once, in order; then this run's poll of the window, which
    # re-sends the same hours and changes nothing.
    assert [(n, e) for n, e, _ in runs[:4]] == [
        (name, b.get("endpoint", "ingest")) for name, b in spooled.items()
    ]
    assert sum(r["inserted"] for _, _, r in runs[:4]) == 2 + len(sums(items, lambda t: t))
    assert all(r["inserted"] == r["updated"] == 0 for _, _, r in runs[4:])
    assert len(runs) == len({n for n, _, _ in runs})
    client = backend.client()
    daily = client.all_costs()
    assert [r for r in daily if r.ProviderName == "Legacy"] == legacy_rows  # exact, once
    assert not [r for r in client.all_hourly() if r.ProviderName == "Legacy"]
    assert_stored(backend, items, export, daily=[r for r in daily if r.ProviderName != "Legacy"])


def test_llm_usage_file_through_poller_stores_what_the_backend_route_stores(
    backend, tmp_path: Path, start_poller: StartPoller
) -> None:
    backend.start()
    gpt = {"provider": "openai", "model": "gpt-4o-mini", "project": "bot"}
    records = [
        {**gpt, "timestamp": f"2025-01-0{1 + m // 1440}T{m // 60 % 24:02d}:{m % 60:02d}:00Z",
         "input_tokens": 1000 + m, "output_tokens": 7 * m}
        for m in range(0, 2 * 1440, 17)
    ] + [
        {"provider": "anthropic", "model": "claude-x", "day": "2025-01-02", "cost": "1.25"},
        {"provider": "openai", "model": "gpt-4o-mini", "project": "batch", "day": "2025-01-01",
         "input_tokens": 10**9},
    ]  # fmt: skip
    path = tmp_path / "usage.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    config = write_config(tmp_path, "llm-usage", {"paths": [str(path)]})
    assert start_poller(backend, config).wait(120) == 0
    endpoints = Counter(e for _, e, _ in delivered((tmp_path / "poller.log").read_text()))
    assert endpoints == {"ingest-hourly": 1, "ingest": 1}  # 48 hourly rows, 2 daily
    client = backend.client()
    want = usage_hourly_rows([LlmUsage.model_validate(r) for r in records[:-2]])
    assert client.all_hourly() == want and len(want) == 48
    gpt_days = {
        r.ChargePeriodStart: r.BilledCost for r in client.all_costs() if r.SubAccountId == "bot"
    }
    assert gpt_days == {
        day: sum((r.BilledCost for r in want if r.ChargePeriodStart.date() == day), Decimal(0))
        for day in (date(2025, 1, 1), date(2025, 1, 2))
    }
    # The backend's POST /api/v1/llm-usage of the same records stores the very same rows.
    resp = httpx.post(
        f"{backend.url}/api/v1/llm-usage?source=gateway",
        json=records,
        headers={"Authorization": "Bearer dev-agent-key"},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    for rows in (client.all_hourly(), client.all_costs()):
        assert set(Counter(r.model_dump_json() for r in rows).values()) == {2}

"""The poller with a ``vultr`` source (a scripted Vultr API on a local port) into a real backend
process: pending-charge growth over polls, then the month-close invoice; the stored rows of the
month end equal to the invoice's spread, stale keys stored as 0, credits negative."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from costguard_adapters import vultr
from costguard_adapters.config import PollerConfig
from costguard_adapters.poller import Poller
from costguard_adapters.vultr_state import STATE_FILE

LB, LB_NAME = "Load Balancer", "Load Balancer (my-loadbalancer)"
VM, VM_OLD, VM_NEW = "Vultr Cloud Compute", "1.1.1.1 [my-instance]", "1.1.1.1 [renamed]"


def item(product: str, description: str, start: str, total: str, end: str = "") -> dict:
    return {"description": description, "product": product, "start_date": start + "+00:00",
            "end_date": (end or start) + "+00:00", "units": 1, "unit_type": "hours",
            "unit_price": "0.01", "total": total}  # fmt: skip


def test_poller_vultr_growth_then_month_close_into_the_backend(
    backend, vultr_api, tmp_path: Path, monkeypatch
) -> None:
    api, url = vultr_api
    backend.start()
    config = PollerConfig.model_validate(
        {"sources": [{"name": "vultr-main", "adapter": "vultr",
                      "settings": {"api_key": "k", "base_url": url}}]}
    )  # fmt: skip
    poller = Poller(config, backend.client(), tmp_path / "state")
    source = config.sources[0]

    def poll_at(when: str) -> None:
        monkeypatch.setattr(vultr, "utc_now", lambda: datetime.fromisoformat(when + "+00:00"))
        poller.poll(source)
        assert poller.flush()

    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "2.50")]
    poll_at("2024-03-03T12:00:00")
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "4.00"),
                   item(VM, VM_OLD, "2024-03-04T06:00:00", "1.00")]  # fmt: skip
    poll_at("2024-03-04T18:00:00")
    state = tmp_path / "state" / "adapters" / "vultr-main" / STATE_FILE
    assert state.exists()
    stored = {(r.ChargePeriodStart.isoformat(), r.ResourceId): r.BilledCost
              for r in backend.client().all_costs()}  # fmt: skip
    assert stored[("2024-03-03", LB_NAME)] == Decimal("1.10")  # 0.50 + 12/30 of 1.50
    assert stored[("2024-03-04", VM_OLD)] == Decimal("1.00")
    # Month close: the invoice (VM renamed), April's pending, a credit on 04-01.
    march = [item(LB, LB_NAME, "2024-03-01T00:00:00", "12.40", "2024-04-01T00:00:00"),
             item(VM, VM_NEW, "2024-03-04T06:00:00", "9.99", "2024-04-01T00:00:00")]  # fmt: skip
    api.invoices = [({"id": 77, "date": "2024-04-01T00:30:00+00:00", "description":
                      "Invoice #77", "amount": "22.39", "balance": "0"}, march)]  # fmt: skip
    credit = {"id": 78, "date": "2024-04-01T03:00:00+00:00", "type": "credit",
              "description": "Account Credit", "amount": "5.00", "balance": "-5"}  # fmt: skip
    api.history = [credit]
    api.pending = [item(LB, LB_NAME, "2024-04-01T00:00:00", "0.20")]
    poll_at("2024-04-01T08:00:00")
    rows = backend.client().all_costs()
    keys = [(r.ChargePeriodStart, r.ServiceName, r.ResourceId, r.ChargeCategory) for r in rows]
    assert len(keys) == len(set(keys))  # one stored row per key
    by_day: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows:
        by_day[r.ChargePeriodStart.isoformat()] += r.BilledCost
    spread = defaultdict(Decimal)
    for line in march:
        for day, part in vultr.spread(Decimal(line["total"]), datetime.fromisoformat(
                line["start_date"]).date(), datetime(2024, 4, 1, tzinfo=UTC).date()):  # fmt: skip
            spread[day.isoformat()] += part
    assert {d: v for d, v in by_day.items() if d.startswith("2024-03")} == dict(spread)
    assert sum(v for d, v in by_day.items() if d.startswith("2024-03")) == Decimal("22.39")
    old = [r.BilledCost for r in rows if r.ResourceId == VM_OLD]
    assert old == [Decimal(0)]  # its 03-04 row: stored as 0, nothing stale
    april = {(r.ChargeCategory, r.ServiceName): r.BilledCost for r in rows
             if r.ChargePeriodStart.isoformat() == "2024-04-01"}  # fmt: skip
    assert april == {("Usage", LB): Decimal("0.20"), ("Credit", "Account Credit"): Decimal(-5)}

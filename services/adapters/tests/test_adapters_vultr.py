"""The vultr adapter over several polls (a scripted Vultr API on a local port, through httpx):
pending-charge growth per UTC day, decreases, month close against the invoice, the state file
across restarts and torn writes. ``Stored`` replays the backend's rule (a row's key is day +
dimensions; a re-sent key replaces the stored row) so the totals a backend would hold are
checked after every poll; test_poller_vultr.py does the same through a real backend."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from costguard_adapters import state as state_module
from costguard_adapters.registry import load_all
from costguard_adapters.vultr_state import STATE_FILE, split_time
from costguard_core.models import CostRow

adapters = load_all()
LB, LB_NAME = "Load Balancer", "Load Balancer (my-loadbalancer)"
VOL, VOL_NAME = "Block Storage", "Block Storage (vol-1)"
VM, VM_NAME = "Vultr Cloud Compute", "1.1.1.1 (8192 MB) [my-instance]"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def item(product: str, description: str, start: str, total: str, end: str = "") -> dict:
    """A pending-charge or invoice item in Vultr's documented shape."""
    return {"description": description, "product": product, "start_date": start + "+00:00",
            "end_date": (end or start) + "+00:00", "units": 1, "unit_type": "hours",
            "unit_price": "0.01", "total": total}  # fmt: skip


class Stored:
    """What the backend holds: rows by key (day + dimensions), a re-sent key replacing."""

    def __init__(self) -> None:
        self.rows: dict[tuple, Decimal] = {}

    def post(self, rows: list[CostRow]) -> None:
        for r in rows:
            assert r.BilledCost == r.EffectiveCost and r.ProviderName == "Vultr"
            key = (r.ChargePeriodStart, r.ServiceName, r.ResourceId, r.ChargeCategory)
            self.rows[key] = r.BilledCost

    def day(self, day: str, resource: str, category: str = "Usage") -> Decimal:
        return sum(
            (v for (d, _, res, cat), v in self.rows.items()
             if d.isoformat() == day and res == resource and cat == category),
            Decimal(0),
        )  # fmt: skip

    def total(self, month: str = "") -> Decimal:
        return sum(
            (v for (d, *_), v in self.rows.items() if d.isoformat().startswith(month)), Decimal(0)
        )


def poll(url: str, state_dir: Path | None, now: str, start: date | None = None) -> list[CostRow]:
    """One poll by a new adapter instance (as the poller builds one per poll)."""
    cls = adapters.get("vultr")
    adapter = cls(cls.Settings(api_key="k", base_url=url), clock=lambda: at(now))
    adapter.state_dir = state_dir
    return list(adapter.pull(start, None))


def test_split_time_is_exact_and_proportional() -> None:
    parts = split_time(Decimal("1.00"), at("2024-03-04T16:00:00"), at("2024-03-05T04:00:00"))
    assert parts == [(date(2024, 3, 4), Decimal("0.666666666666")),
                     (date(2024, 3, 5), Decimal("0.333333333334"))]  # fmt: skip
    same = split_time(Decimal("2"), at("2024-03-05T04:00:00"), at("2024-03-05T04:00:00"))
    assert same == [(date(2024, 3, 5), Decimal("2"))]
    long = split_time(Decimal("10"), at("2024-01-01T00:00:00"), at("2024-02-01T00:00:00"))
    assert len(long) == 31 and sum(v for _, v in long) == Decimal("10")


def test_three_polls_growth_per_day_decrease_and_month_close(vultr_api, tmp_path, caplog) -> None:
    api, url = vultr_api
    stored = Stored()
    caplog.set_level("WARNING", logger="costguard.adapters")
    # Poll 1, 2024-03-03 12:00: first sighting of the load balancer (2.50 since 03-01 00:00):
    # spread over the 60 hours of [03-01 00:00, 03-03 12:00): 24 h, 24 h, 12 h.
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "2.50")]
    stored.post(poll(url, tmp_path, "2024-03-03T12:00:00"))
    assert [stored.day(f"2024-03-0{d}", LB_NAME) for d in (1, 2, 3)] == [
        Decimal("1.00"), Decimal("1.00"), Decimal("0.50")]  # fmt: skip
    # Poll 2, 03-04 18:00 (a new adapter instance: the snapshot comes from the state file):
    # +1.50 over the 30 hours [03-03 12:00, 03-04 18:00): 12 h → 0.60, 18 h → 0.90.
    # A volume appears (0.07 since 03-04 10:00): all on 03-04.
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "4.00"),
                   item(VOL, VOL_NAME, "2024-03-04T10:00:00", "0.07")]  # fmt: skip
    stored.post(poll(url, tmp_path, "2024-03-04T18:00:00"))
    assert stored.day("2024-03-03", LB_NAME) == Decimal("1.10")
    assert stored.day("2024-03-04", LB_NAME) == Decimal("0.90")
    assert stored.day("2024-03-04", VOL_NAME) == Decimal("0.07")
    # Poll 3, 03-05 04:00: LB +0.10 over 10 h (6 h on 03-04, 4 h on 03-05), volume +0.03 the
    # same way, and an instance first seen (1.00 since 03-04 16:00: 8 of 12 hours on 03-04).
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "4.10"),
                   item(VOL, VOL_NAME, "2024-03-04T10:00:00", "0.10"),
                   item(VM, VM_NAME, "2024-03-04T16:00:00", "1.00")]  # fmt: skip
    stored.post(poll(url, tmp_path, "2024-03-05T04:00:00"))
    want = {("2024-03-01", LB_NAME): "1.00", ("2024-03-02", LB_NAME): "1.00",
            ("2024-03-03", LB_NAME): "1.10", ("2024-03-04", LB_NAME): "0.96",
            ("2024-03-05", LB_NAME): "0.04", ("2024-03-04", VOL_NAME): "0.088",
            ("2024-03-05", VOL_NAME): "0.012", ("2024-03-04", VM_NAME): "0.666666666666",
            ("2024-03-05", VM_NAME): "0.333333333334"}  # fmt: skip
    assert {k: stored.day(*k) for k in want} == {k: Decimal(v) for k, v in want.items()}
    assert stored.total() == Decimal("5.20")  # 4.10 + 0.10 + 1.00, the pending totals
    assert {s for (_, s, r, _) in stored.rows if r == VM_NAME} == {VM}  # ServiceName = product
    assert not caplog.records  # the account figure (the items' sum) matched every time
    # Poll 4, 03-06 09:00: Vultr corrected the LB down to 3.90: -0.20 on the poll's day as an
    # Adjustment; the Usage days stay. The account lags (still 5.20): a warning names both.
    api.pending[0] = item(LB, LB_NAME, "2024-03-01T00:00:00", "3.90")
    api.account_pending = "5.20"
    stored.post(poll(url, tmp_path, "2024-03-06T09:00:00"))
    assert stored.day("2024-03-06", LB_NAME, "Adjustment") == Decimal("-0.20")
    assert stored.day("2024-03-06", LB_NAME) == 0
    assert stored.total() == Decimal("5.00")
    assert "pending_charges 5.2" in caplog.text and "5.00" in caplog.text
    api.account_pending = None
    # Month close, polled 04-01 08:00: March's invoice (dated 04-01 00:30) holds the LB, the
    # volume, and the instance under a new description; pending now lists April's LB, and the
    # March volume still (grown, after its invoice: ignored, the invoice is the truth).
    march = [item(LB, LB_NAME, "2024-03-01T00:00:00", "12.40", "2024-04-01T00:00:00"),
             item(VOL, VOL_NAME, "2024-03-04T10:00:00", "0.31", "2024-04-01T00:00:00"),
             item(VM, "1.1.1.1 (8192 MB) [renamed]", "2024-03-04T16:00:00", "9.99",
                  "2024-04-01T00:00:00")]  # fmt: skip
    api.invoices = [({"id": 901, "date": "2024-04-01T00:30:00+00:00", "description":
                      "Invoice #901", "amount": "22.70", "balance": "0"}, march)]  # fmt: skip
    api.history = [{"id": 901, "date": "2024-04-01T00:30:00+00:00", "type": "invoice",
                    "description": "Invoice #901", "amount": "22.70", "balance": "0"}]  # fmt: skip
    api.pending = [item(LB, LB_NAME, "2024-04-01T00:00:00", "0.20"),
                   item(VOL, VOL_NAME, "2024-03-04T10:00:00", "0.35")]  # fmt: skip
    caplog.clear()
    rows = poll(url, tmp_path, "2024-04-01T08:00:00")
    stored.post(rows)
    assert stored.total("2024-03") == Decimal("22.70")  # exactly the invoice
    lb_share = Decimal("12.40") / 31
    for day in range(1, 32):
        assert stored.day(f"2024-03-{day:02}", LB_NAME) in (
            lb_share.quantize(Decimal("1e-12"), rounding="ROUND_DOWN"),
            Decimal("12.40") - 30 * lb_share.quantize(Decimal("1e-12"), rounding="ROUND_DOWN"),
        )
    assert stored.day("2024-03-06", LB_NAME, "Adjustment") == 0  # sent as 0, not left behind
    assert stored.day("2024-03-04", VM_NAME) == stored.day("2024-03-05", VM_NAME) == 0  # stale
    sent_zero = {(r.ChargePeriodStart.isoformat(), r.ResourceId) for r in rows if r.BilledCost == 0}
    assert {("2024-03-04", VM_NAME), ("2024-03-05", VM_NAME)} <= sent_zero
    assert stored.day("2024-03-31", "1.1.1.1 (8192 MB) [renamed]") > 0
    # April: the new LB item (0.20 over [04-01 00:00, 08:00)); the closed volume's growth
    # spilled onto 04-01 is 0.
    assert stored.total("2024-04") == Decimal("0.20")
    assert stored.day("2024-04-01", VOL_NAME) == 0
    assert not caplog.records  # history 22.70 == the items' sum; account 0.20 == pending
    # A window that has passed the invoice's date (start 04-02): its items are not fetched,
    # March is not sent again, and the state forgets the items with nothing left in the window.
    api.pending = [item(LB, LB_NAME, "2024-04-01T00:00:00", "0.20")]
    api.requests.clear()
    rows = poll(url, tmp_path, "2024-04-02T08:00:00", start=date(2024, 4, 2))
    assert "/v2/billing/invoices/901/items" not in api.requests
    assert rows == []  # the April LB did not grow since 04-01 08:00
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert [(i["start_date"], i["total"], i["days"]) for i in saved["items"]] == [
        ("2024-04-01T00:00:00+00:00", "0.2", {})
    ]


def test_state_survives_a_restart_and_a_torn_write(vultr_api, tmp_path, monkeypatch) -> None:
    api, url = vultr_api
    stored = Stored()
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "1.00")]
    stored.post(poll(url, tmp_path, "2024-03-02T00:00:00"))
    path = tmp_path / STATE_FILE
    before = path.read_bytes()
    # A crash in the middle of the next write: the new state is in the temp file, the rename
    # never happens. The poll fails (nothing sent) and the old state file is intact.
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "2.00")]
    real_replace = state_module.os.replace

    def crash(src, dst):
        assert Path(src).read_bytes() != before  # the new state was written, not yet renamed
        raise SystemExit("killed mid-write")

    monkeypatch.setattr(state_module.os, "replace", crash)
    with pytest.raises(SystemExit):
        poll(url, tmp_path, "2024-03-03T00:00:00")
    monkeypatch.setattr(state_module.os, "replace", real_replace)
    assert path.read_bytes() == before
    # A SIGKILL leaves its temp file behind, half written: it is never read.
    (tmp_path / f".{STATE_FILE}.x1y2.tmp").write_text('{"version": 1, "items": [{"prod')
    # Restarted (a new instance), 03-04 00:00: the growth since the last *saved* snapshot
    # (03-02 00:00) is spread over 03-02 and 03-03, so nothing of the failed poll is lost.
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "3.00")]
    stored.post(poll(url, tmp_path, "2024-03-04T00:00:00"))
    assert [stored.day(f"2024-03-0{d}", LB_NAME) for d in (1, 2, 3)] == [
        Decimal("1.00"), Decimal("1.00"), Decimal("1.00")]  # fmt: skip
    assert stored.total() == Decimal("3.00")
    path.write_text("{not json")
    with pytest.raises(ValueError, match=STATE_FILE):
        poll(url, tmp_path, "2024-03-05T00:00:00")


def test_without_a_state_dir_each_instance_starts_over(vultr_api) -> None:
    """Outside the poller (no state_dir) the snapshots live in the adapter instance: a second
    pull of the same instance sees only the growth."""
    api, url = vultr_api
    cls = adapters.get("vultr")
    now = [at("2024-03-02T00:00:00")]
    adapter = cls(cls.Settings(api_key="k", base_url=url), clock=lambda: now[0])
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "1.00")]
    assert sum(r.BilledCost for r in adapter.pull(None, None)) == Decimal("1.00")
    now[0] = at("2024-03-03T00:00:00")
    api.pending = [item(LB, LB_NAME, "2024-03-01T00:00:00", "1.50")]
    rows = {r.ChargePeriodStart.isoformat(): r.BilledCost for r in adapter.pull(None, None)}
    assert rows == {"2024-03-01": Decimal("1.00"), "2024-03-02": Decimal("0.50")}


def test_unknown_history_type_and_a_short_window_are_refused(vultr_api) -> None:
    api, url = vultr_api
    api.history = [{"id": 1, "date": "2024-03-01T00:00:00+00:00", "type": "refund",
                    "description": "x", "amount": "1.00", "balance": "0"}]  # fmt: skip
    with pytest.raises(Exception, match="unknown billing history type 'refund'"):
        poll(url, None, "2024-03-02T00:00:00")
    with pytest.raises(Exception, match="restatement_days"):
        adapters.build("vultr", {"api_key": "k", "restatement_days": 3})

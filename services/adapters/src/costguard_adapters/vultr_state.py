"""The ``vultr`` adapter's pending-charge snapshots, and the split of spend over UTC days.

Vultr's pending charges are running totals per item of the month not yet invoiced. The daily
spend is how they grow between polls, so the adapter remembers, per pending-charge item, the
last total it saw and when (the *snapshot*), and the spend it has derived so far per
ChargeCategory and UTC day. Item key: product + description + start_date.

:meth:`PendingState.observe` applies one poll's figure for one item at UTC time ``now``:

- first sighting: the whole total is spread over ``[start_date, now)`` (:func:`split_time`);
- growth since the snapshot: the increase is spread over ``[snapshot time, now)``;
- a decrease (Vultr corrected a charge): the (negative) change on ``now``'s UTC day, as
  ChargeCategory ``Adjustment``;
- the snapshot becomes ``(total, now)``, also when the total did not change.

State file (``<state_dir>/vultr_pending.json``, replaced atomically by
:func:`costguard_adapters.state.atomic_write`: temp file, fsync, ``os.replace``; a crash leaves
the old or the new file, never half of one)::

    {"version": 1, "items": [{"product": "Load Balancer",
      "description": "Load Balancer (my-loadbalancer)", "start_date": "2024-03-01T00:00:00+00:00",
      "total": "3.50", "seen": "2024-03-03T12:00:00+00:00",
      "days": {"Usage": {"2024-03-01": "1.75", ...}, "Adjustment": {"2024-03-03": "-0.20"}},
      "closed": false}]}

``closed`` is set once an invoice covers the item's start_date: from then on its derived days
are sent as 0 (the invoice's own rows hold that money), even after the invoice leaves the poll
window.

Money is USD as exact decimal text; times are UTC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal, localcontext
from pathlib import Path
from typing import Any

from costguard_adapters.state import atomic_write

STEP = Decimal("1e-12")
STATE_FILE = "vultr_pending.json"

ItemKey = tuple[str, str, str]  # product, description, start_date (UTC ISO)


def split_time(amount: Decimal, t0: datetime, t1: datetime) -> list[tuple[date, Decimal]]:
    """``amount`` over the UTC days of ``[t0, t1)``, each day's share in proportion to the time
    of that day inside the interval; shares are cut to 12 places and the last day takes the
    remainder, so they sum exactly to ``amount``. ``t1 <= t0``: all on ``t1``'s UTC day.
    Both times must be timezone-aware."""
    t0, t1 = t0.astimezone(UTC), t1.astimezone(UTC)
    if t1 <= t0:
        return [(t1.date(), amount)]
    spans: list[tuple[date, int]] = []
    cursor = t0
    while cursor < t1:
        midnight = datetime.combine(cursor.date() + timedelta(1), time(), UTC)
        nxt = min(midnight, t1)
        spans.append((cursor.date(), _micros(nxt - cursor)))
        cursor = nxt
    whole = _micros(t1 - t0)
    out: list[tuple[date, Decimal]] = []
    with localcontext() as ctx:
        ctx.prec = 80
        done = Decimal(0)
        for day, micros in spans[:-1]:
            share = (amount * micros / whole).quantize(STEP, rounding=ROUND_DOWN)
            out.append((day, share))
            done += share
        out.append((spans[-1][0], amount - done))
    return out


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class PendingItem:
    """One pending-charge item: its last snapshot and the spend derived from it so far."""

    product: str
    description: str
    start: datetime
    total: Decimal
    seen: datetime
    days: dict[str, dict[date, Decimal]] = field(default_factory=dict)
    closed: bool = False  # an invoice covers its start: its days are the invoice's (0 here)

    @property
    def key(self) -> ItemKey:
        return (self.product, self.description, self.start.isoformat())

    def add(self, category: str, parts: list[tuple[date, Decimal]]) -> None:
        per_day = self.days.setdefault(category, {})
        for day, amount in parts:
            per_day[day] = per_day.get(day, Decimal(0)) + amount


class PendingState:
    """Snapshots per pending-charge item, in ``<state_dir>/vultr_pending.json`` (or in memory
    when ``state_dir`` is None). Raises ValueError naming the file when it is unreadable."""

    def __init__(self, state_dir: Path | None) -> None:
        self.path = state_dir / STATE_FILE if state_dir is not None else None
        self.items: dict[ItemKey, PendingItem] = {}
        if self.path is not None and self.path.exists():
            self.items = _load(self.path)

    def observe(
        self, product: str, description: str, start: datetime, total: Decimal, now: datetime
    ) -> None:
        """Apply one poll's ``total`` (USD) of an item seen at ``now`` (rules: module doc)."""
        start = start.astimezone(UTC)
        key = (product, description, start.isoformat())
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = PendingItem(product, description, start, total, now)
            if total:
                item.add("Usage", split_time(total, start, now))
            return
        change = total - item.total
        if change > 0:
            item.add("Usage", split_time(change, item.seen, now))
        elif change < 0:
            item.add("Adjustment", [(now.astimezone(UTC).date(), change)])
        item.total, item.seen = total, now

    def prune(self, before: date, listed: set[ItemKey]) -> None:
        """Forget derived days before ``before`` (the poll window's first day: they were sent by
        earlier polls and are not sent again), and items no longer listed with no days left."""
        for key, item in list(self.items.items()):
            for per_day in item.days.values():
                for day in [d for d in per_day if d < before]:
                    del per_day[day]
            item.days = {c: d for c, d in item.days.items() if d}
            if key not in listed and not item.days:
                del self.items[key]

    def save(self) -> None:
        """Persist atomically (nothing to do in memory)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        items = [
            {
                "product": it.product,
                "description": it.description,
                "start_date": it.start.isoformat(),
                "total": str(it.total),
                "seen": it.seen.astimezone(UTC).isoformat(),
                "days": {
                    c: {d.isoformat(): str(v) for d, v in sorted(per_day.items())}
                    for c, per_day in sorted(it.days.items())
                },
                "closed": it.closed,
            }
            for _, it in sorted(self.items.items())
        ]
        data = json.dumps({"version": 1, "items": items}, indent=1, sort_keys=True)
        atomic_write(self.path, data.encode())


def _load(path: Path) -> dict[ItemKey, PendingItem]:
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != 1:
            raise ValueError("expected {'version': 1, 'items': [...]}")
        items = {}
        for i, raw in enumerate(data["items"]):
            try:
                item = PendingItem(
                    product=raw["product"],
                    description=raw["description"],
                    start=datetime.fromisoformat(raw["start_date"]).astimezone(UTC),
                    total=Decimal(raw["total"]),
                    seen=datetime.fromisoformat(raw["seen"]).astimezone(UTC),
                    days={
                        c: {date.fromisoformat(d): Decimal(v) for d, v in per_day.items()}
                        for c, per_day in raw["days"].items()
                    },
                    closed=bool(raw.get("closed", False)),
                )
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"items[{i}]: {exc!r}") from exc
            items[item.key] = item
        return items
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not a vultr pending-charge state file: {exc}") from exc

"""``vultr``: Vultr's billing API v2 through httpx with the API key (Bearer), USD.

Vultr bills monthly and exposes no daily cost, so daily spend is derived (worked example in
docs/adapters/README.md "vultr"). Every row: ProviderName "Vultr", ServiceName = the item's
``product``, ResourceId = its ``description`` (e.g. "Load Balancer (my-loadbalancer)").

- **Invoice items** (GET /v2/billing/invoices, then /invoices/{id}/items for every invoice
  dated on or after the poll window's first day): each item's ``total`` is spread evenly over
  the UTC days of ``[start_date, end_date)`` (:func:`spread`), ChargeCategory "Usage". An
  invoice *covers* the UTC days from its earliest item start to its latest item end.
- **Pending charges** (GET /v2/billing/pending-charges, the month not yet invoiced): spend is
  the growth of each item between polls, kept as snapshots in :mod:`vultr_state` (first
  sighting, growth split by time per UTC day, decreases as "Adjustment" on the poll's day).
- **Month close**: an invoice is the truth for the days it covers and for the pending items
  whose start_date lies in them. For such days and items every pending-derived row is sent
  again with the invoice's value for the same key (day + product + description + category),
  or 0 where the invoice has no such key, so the backend (idempotent on source + day +
  dimensions: a re-sent key replaces the stored row) ends with exactly the invoice's spread.
- **Billing history** (GET /v2/billing/history): ``credit`` entries become rows with
  ChargeCategory "Credit", the amount made negative, ServiceName = the description (else
  "Account Credit"), no ResourceId, on the entry's UTC day. ``invoice`` entries are counted
  through the invoice items (skipped; when that invoice's items were pulled, a WARNING if the
  amounts differ). ``payment`` entries move money, they are no cost (skipped). Another type is
  an InputError (no money is dropped unseen).
- **Account** (GET /v2/account): a check only: ``pending_charges`` should equal the sum of the
  pending items' totals rounded to the cent; a WARNING names both figures if not (Vultr's
  account figure may lag).

Every poll sends all derived rows of the window again (unchanged rows are no-ops in the
backend), so a poll that fails after the state was saved loses nothing. Pagination follows
``meta.links.next`` as the ``cursor`` parameter. JSON numbers are read as exact decimals.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from costguard_core.errors import InputError
from costguard_core.models import CostRow
from pydantic import Field, SecretStr

from costguard_adapters.registry import Adapter, AdapterSettings, adapters, in_range
from costguard_adapters.vultr_state import STEP, PendingState

log = logging.getLogger("costguard.adapters")

RowKey = tuple[date, str, str | None, str]  # day, ServiceName, ResourceId, ChargeCategory
_CENT = Decimal("0.01")


class VultrSettings(AdapterSettings):
    api_key: SecretStr = Field(title="API key", description="Vultr personal access token.")
    base_url: str = Field("https://api.vultr.com", title="API URL", description="Tests override.")
    include_pending: bool = Field(
        True,
        title="Pending charges",
        description="Derive the not-yet-invoiced month from pending-charge growth (snapshots in "
        "<STATE_DIR>/adapters/<source name>/vultr_pending.json) and check the account figure.",
    )
    restatement_days: int = Field(
        45,
        ge=35,
        le=62,
        title="Restatement window (days)",
        description="Days before the watermark pulled again on every poll. At least 35: an "
        "invoice, issued after its month, restates every day of that month (and its pending-"
        "derived rows must be replaced inside the window).",
    )


def utc_now() -> datetime:
    """The poll time (aware UTC); a module function so a poller test can set the clock."""
    return datetime.now(UTC)


def spread(total: Decimal, start: date, end: date) -> list[tuple[date, Decimal]]:
    """``total`` over the UTC days in ``[start, end)`` (at least one day), summing exactly."""
    days = max((end - start).days, 1)
    share = (total / days).quantize(STEP, rounding=ROUND_DOWN)
    out = [(start + timedelta(i), share) for i in range(days - 1)]
    out.append((start + timedelta(days - 1), total - share * (days - 1)))
    return out


def _time(record: dict[str, Any], name: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(record[name]).replace("Z", "+00:00"))
        if value.tzinfo is None:
            raise ValueError(f"{record[name]!r} has no UTC offset")
        return value.astimezone(UTC)
    except (KeyError, ValueError) as exc:
        raise InputError(f"bad time: {exc!r}", path=where, field=name) from exc


def _money(record: dict[str, Any], name: str, where: str) -> Decimal:
    value = record.get(name)
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InputError(f"not a number: {value!r}", path=where, field=name)
    return Decimal(value)


@adapters.register("vultr")
class VultrAdapter(Adapter):
    """Daily Vultr spend from invoice items, pending-charge growth and billing-history credits.

    ``pull(start, end)`` returns ``CostRow``s of UTC days in ``[start, end]`` (USD) and saves the
    pending-charge state in ``state_dir`` (kept in the instance when None) before returning.
    Raises InputError naming the API record and field for a malformed one, httpx.HTTPError
    for a failed request, ValueError naming the state file when it is unreadable. ``clock``
    (tests) returns the aware UTC time of the poll; default :func:`utc_now`.
    """

    Settings = VultrSettings

    def __init__(
        self, settings: AdapterSettings, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(settings)
        self.clock = clock or utc_now
        self._memory: PendingState | None = None  # the state without a state_dir

    def _get(self, client: httpx.Client, path: str, key: str) -> Iterator[dict[str, Any]]:
        params: dict[str, str] = {"per_page": "500"}
        while True:
            body = self._json(client, path, params)
            yield from body.get(key, [])
            cursor = (body.get("meta") or {}).get("links", {}).get("next")
            if not cursor:
                return
            params["cursor"] = cursor

    @staticmethod
    def _json(client: httpx.Client, path: str, params: dict[str, str] | None = None) -> Any:
        resp = client.get(path, params=params)
        resp.raise_for_status()
        return json.loads(resp.content, parse_float=Decimal)

    def _state(self) -> PendingState:
        if self.state_dir is not None:
            return PendingState(self.state_dir)
        if self._memory is None:
            self._memory = PendingState(None)
        return self._memory

    def pull(self, start: date | None, end: date | None) -> Iterable[CostRow]:
        s = self.settings
        assert isinstance(s, VultrSettings)
        now = self.clock()
        headers = {"Authorization": f"Bearer {s.api_key.get_secret_value()}"}
        items: dict[str, list[dict[str, Any]]] = {}
        pending: list[dict[str, Any]] = []
        account: dict[str, Any] | None = None
        with httpx.Client(base_url=s.base_url, headers=headers, timeout=30) as client:
            for inv in self._get(client, "/v2/billing/invoices", "billing_invoices"):
                if inv.get("id") in (None, ""):
                    raise InputError("invoice without an id", path="vultr invoices", field="id")
                issued = _time(inv, "date", f"vultr invoice {inv['id']}")
                if start is None or issued.date() >= start:
                    path = f"/v2/billing/invoices/{inv['id']}/items"
                    items[str(inv["id"])] = list(self._get(client, path, "invoice_items"))
            history = list(self._get(client, "/v2/billing/history", "billing_history"))
            if s.include_pending:
                pending = list(self._get(client, "/v2/billing/pending-charges", "pending_charges"))
                account = self._json(client, "/v2/account").get("account", {})
        invoiced, covers = _invoice_rows(items)
        rows = _credit_rows(history, items)
        if s.include_pending:
            state = self._state()
            totals: dict[tuple[str, str, datetime], Decimal] = defaultdict(Decimal)
            for i, item in enumerate(pending):  # items of one key (if ever) are one snapshot
                where = f"vultr pending charge {i}"
                begins = _time(item, "start_date", where)
                key = (item.get("product") or "Vultr", item.get("description") or "", begins)
                totals[key] += _money(item, "total", where)
            for (product, description, begins), total in totals.items():
                state.observe(product, description, begins, total, now)
            listed = {(p, d, b.isoformat()) for p, d, b in totals}
            _check_account(account or {}, pending)
            for it in state.items.values():
                it.closed = it.closed or covers(it.start.date())
            rows.update(_pending_rows(state, covers))
            if start is not None:
                state.prune(start, listed)
            state.save()
        rows.update(invoiced)
        return [
            CostRow(
                ChargePeriodStart=day,
                ProviderName="Vultr",
                ServiceName=service,
                ResourceId=resource,
                ChargeCategory=category,
                BillingCurrency="USD",
                BilledCost=cost,
                EffectiveCost=cost,
            )
            for (day, service, resource, category), cost in sorted(
                rows.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] or "", kv[0][3])
            )
            if in_range(day, start, end)
        ]


def _invoice_rows(
    items: dict[str, list[dict[str, Any]]],
) -> tuple[dict[RowKey, Decimal], Callable[[date], bool]]:
    """Invoice items spread per day and key, and whether a UTC day is covered by an invoice."""
    rows: dict[RowKey, Decimal] = defaultdict(Decimal)
    spans: list[tuple[date, date]] = []
    for invoice, lines in items.items():
        first_days, last_days = [], []
        for i, item in enumerate(lines):
            where = f"vultr invoice {invoice} item {i}"
            total = _money(item, "total", where)
            first = _time(item, "start_date", where).date()
            end = max(_time(item, "end_date", where).date(), first + timedelta(1))
            first_days.append(first)
            last_days.append(end)
            key = (item.get("product") or "Vultr", item.get("description") or None, "Usage")
            for day, part in spread(total, first, end):
                rows[(day, *key)] += part
        if first_days:
            spans.append((min(first_days), max(last_days)))
    return dict(rows), lambda day: any(lo <= day < hi for lo, hi in spans)


def _pending_rows(state: PendingState, covered: Callable[[date], bool]) -> dict[RowKey, Decimal]:
    """Every day and key the pending state has derived: its live spend, or 0 for a closed item
    or a day an invoice covers (the invoice's rows then replace the keys they have)."""
    rows: dict[RowKey, Decimal] = {}
    for item in state.items.values():
        for category, per_day in item.days.items():
            for day, amount in per_day.items():
                key = (day, item.product, item.description or None, category)
                live = not item.closed and not covered(day)
                rows[key] = rows.get(key, Decimal(0)) + (amount if live else Decimal(0))
    return rows


def _credit_rows(
    history: list[dict[str, Any]], items: dict[str, list[dict[str, Any]]]
) -> dict[RowKey, Decimal]:
    """Credit rows of the billing history (negative); checks the history's invoice amounts."""
    rows: dict[RowKey, Decimal] = defaultdict(Decimal)
    for i, entry in enumerate(history):
        where = f"vultr billing history entry {i} (id {entry.get('id')})"
        kind = entry.get("type")
        amount = _money(entry, "amount", where)
        if kind == "credit":
            day = _time(entry, "date", where).date()
            rows[(day, entry.get("description") or "Account Credit", None, "Credit")] -= abs(amount)
        elif kind == "invoice":
            lines = items.get(str(entry.get("id")))
            if lines is not None:
                total = sum((_money(x, "total", where) for x in lines), Decimal(0))
                if total != amount:
                    log.warning(
                        "vultr invoice %s: billing history amount %s != sum of its items %s",
                        entry.get("id"), amount, total,
                    )  # fmt: skip
        elif kind != "payment":
            raise InputError(
                f"unknown billing history type {kind!r} (known: invoice, credit, payment)",
                path=where,
                field="type",
            )
    return dict(rows)


def _check_account(account: dict[str, Any], pending: list[dict[str, Any]]) -> None:
    """WARNING when the account's pending_charges differs from the items' sum, to the cent (or
    is missing: the check cannot be made)."""
    if account.get("pending_charges") is None:
        log.warning("vultr account has no pending_charges: the pending charges are unchecked")
        return
    figure = _money(account, "pending_charges", "vultr account")
    total = sum((_money(x, "total", "vultr pending charges") for x in pending), Decimal(0))
    if figure.quantize(_CENT, ROUND_HALF_UP) != total.quantize(_CENT, ROUND_HALF_UP):
        log.warning(
            "vultr account pending_charges %s != sum of the pending-charge items %s "
            "(Vultr's account figure may lag)",
            figure, total.quantize(_CENT, ROUND_HALF_UP),
        )  # fmt: skip

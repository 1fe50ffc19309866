"""From a FOCUS daily frame to leaves and monitor series (float day matrices).

A *leaf* is one combination of ``LEAF_COLUMNS``; a *monitor* is total spend or one value of a
``MONITOR_COLUMNS`` column, and its series is the sum of its leaves per UTC day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from costguard_core.detection.config import LEAF_COLUMNS, MONITOR_COLUMNS
from costguard_core.detection.gaps import compress
from costguard_core.detection.monitors import with_tag_columns
from costguard_core.errors import InputError

#: ``Monitor.column`` of a leaf monitor (one leaf judged on its own).
LEAF = "leaf"

#: Specificity rank per monitor column (lower = more specific); total spend is the broadest but
#: one, a leaf alone (reported only when no monitor saw it) the last. Tag keys rank together.
RANK: dict[str | None, int] = {
    "ServiceName": 0,
    "SubAccountId": 1,
    "RegionId": 2,
    "Tags.": 3,
    "ProviderName": 4,
    None: 5,
    LEAF: 6,
}


def rank(column: str | None) -> int:
    """Specificity rank of a monitor column (``Tags.<key>`` columns share one)."""
    if column is not None and column.startswith("Tags."):
        return RANK["Tags."]
    return RANK[column]


@dataclass(frozen=True)
class Monitor:
    """One monitored series: ``scope`` is ``{}`` (total) or ``{column: value}``; a leaf monitor
    (``column == LEAF``, ``value`` the leaf id) reports its leaf's ServiceName and SubAccountId."""

    column: str | None
    value: str | None
    first_day: int  # index of its first day with a row; it is NaN (not yet existing) before that
    leaf_scope: tuple[tuple[str, str], ...] = ()

    @property
    def scope(self) -> dict[str, str]:
        if self.column == LEAF:
            return dict(self.leaf_scope)
        return {} if self.column is None else {self.column: str(self.value)}

    @property
    def rank(self) -> int:
        return rank(self.column)


@dataclass(frozen=True)
class Prepared:
    """Days ``days[0] .. days[-1]`` (every UTC day but long idle gaps' tails), leaf table and
    long leaf costs, monitors."""

    days: np.ndarray  # datetime64[D] ascending; consecutive except shortened idle gaps
    leaves: pd.DataFrame  # LEAF_COLUMNS, index = leaf id; missing values are None
    leaf_row: np.ndarray  # long table: leaf id of each (leaf, day) entry
    day_row: np.ndarray  # ... its day index
    cost_row: np.ndarray  # ... its cost (float, credits excluded)
    monitors: list[Monitor]
    matrix: np.ndarray  # (n_monitors, n_days) monitor spend, NaN before first_day
    leaf_parent: np.ndarray  # per monitor row: row of the ServiceName monitor of a leaf, or -1
    leaf_account: np.ndarray  # per monitor row: row of the SubAccountId monitor of a leaf, or -1
    #: Per monitor row and day, USD an export gap did not show (``exportgaps``); None: no gap.
    missing: np.ndarray | None = None

    def leaves_in(self, monitor: Monitor) -> np.ndarray:
        """Leaf ids inside a monitor's scope."""
        if monitor.column is None:
            return self.leaves.index.to_numpy()
        if monitor.column == LEAF:
            return np.array([int(str(monitor.value))])
        return self._by_value(monitor.column).get(monitor.value, np.empty(0, dtype=np.int64))

    def _by_value(self, column: str) -> dict:
        """Leaf ids per value of a leaf column (computed once per column; leaf ids ascending)."""
        cache = self.__dict__.setdefault("_leaf_ids", {})
        if column not in cache:
            # Through a NumPy object array: a groupby over an Arrow-backed column builds its
            # keys one Arrow __getitem__ at a time (~25 ms for the 5,000 values of an
            # incremental run at scale).
            codes, values = pd.factorize(self.leaves[column].to_numpy(dtype=object))
            order = np.argsort(codes, kind="stable")  # missing values (-1) first, then by code
            bounds = np.searchsorted(codes[order], np.arange(len(values) + 1))
            ids = self.leaves.index.to_numpy()[order]
            cache[column] = {
                value: ids[a:b]
                for value, a, b in zip(values.tolist(), bounds[:-1], bounds[1:], strict=True)
            }
        return cache[column]

    def leaf_block(self, leaf_ids: np.ndarray, d0: int, d1: int) -> np.ndarray:
        """Dense ``(len(leaf_ids), d1 - d0 + 1)`` spend of those leaves, zero where no row.

        The long table is sorted by leaf (``prepare`` groups by leaf, day), so only the given
        leaves' rows are read."""
        pos = np.full(len(self.leaves), -1)
        pos[leaf_ids] = np.arange(len(leaf_ids))
        lo = np.searchsorted(self.leaf_row, leaf_ids, side="left")
        hi = np.searchsorted(self.leaf_row, leaf_ids, side="right")
        spans = [np.arange(a, b, dtype=np.int64) for a, b in zip(lo, hi, strict=True)]
        take = np.concatenate(spans) if spans else np.empty(0, dtype=np.int64)
        day = self.day_row[take]
        sel = take[(day >= d0) & (day <= d1)]
        block = np.zeros((len(leaf_ids), d1 - d0 + 1))
        np.add.at(block, (pos[self.leaf_row[sel]], self.day_row[sel] - d0), self.cost_row[sel])
        return block


def _require(frame: pd.DataFrame, cost_column: str) -> None:
    needed = ("ChargePeriodStart", cost_column, *LEAF_COLUMNS)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(f"daily frame lacks column(s) {', '.join(missing)}")
    currencies = (
        sorted(frame["BillingCurrency"].dropna().unique()) if "BillingCurrency" in frame else []
    )
    if len(currencies) > 1:
        raise InputError(
            f"the frame mixes {', '.join(map(str, currencies))}; detect one currency at a time",
            field="BillingCurrency",
        )


def _utc_days(column: pd.Series) -> np.ndarray:
    if column.dtype.kind == "M":  # naive datetime64: UTC already; casting to days floors
        return column.to_numpy().astype("datetime64[D]")
    stamps = pd.to_datetime(column, utc=True)
    return stamps.dt.tz_localize(None).dt.floor("D").to_numpy().astype("datetime64[D]")


def _to_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _floats(column: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_float_dtype(column) or pd.api.types.is_integer_dtype(column):
        values = column.to_numpy(dtype=float)
    else:
        values = np.array([_to_float(v) for v in column], dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise InputError(
            f"frame position {int(bad[0])}: not a number: {column.iloc[bad[0]]!r}", field=name
        )
    return values


def _factorize(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (sorted order, missing → -1) and the values as strings."""
    try:
        codes, values = pd.factorize(column, sort=True)
    except TypeError:  # mixed types do not sort together: compare their text
        text = column.map(lambda v: None if pd.isna(v) else str(v))
        codes, values = pd.factorize(text, sort=True)
    # Through a NumPy object array: iterating an Arrow-backed Index calls its __getitem__ per
    # value (~30 ms for the 10,000 leaves of an incremental run).
    names = [str(v) for v in np.asarray(values, dtype=object)]
    return np.asarray(codes), np.array(names, dtype=object)


def prepare(
    frame: pd.DataFrame,
    cost_column: str,
    keep_gap_days: int | None = None,
    columns: tuple[str, ...] = MONITOR_COLUMNS,
    leaf_monitors: bool = True,
) -> Prepared:
    """Leaves, long leaf costs and monitor matrix of a frame.

    Monitors: total spend, one per value of each of ``columns`` (FOCUS columns or
    ``Tags.<key>``, read from the JSON ``Tags`` column; a tag key becomes part of the leaf key),
    and with ``leaf_monitors`` one per leaf.

    With ``keep_gap_days`` (``gaps.lookback_days``), runs of days without any row longer than
    that are shortened by whole weeks (``gaps.compress``); ``days`` then skips them.

    Rows with a negative cost (credits, refunds, negative adjustments) are left out of every
    sum: only increases are alerted on, and a credit's dip or its expiry is a billing event, not a
    usage anomaly. Raises ``InputError`` on a missing column, a non-numeric cost or mixed
    currencies.
    """
    _require(frame, cost_column)
    if frame.empty:
        raise InputError("daily frame has no rows")
    columns = tuple(sorted(columns, key=rank))
    tag_cols = tuple(c for c in columns if c.startswith("Tags."))
    if tag_cols:
        frame = with_tag_columns(frame, tag_cols)
    leaf_cols = LEAF_COLUMNS + tag_cols
    day = _utc_days(frame["ChargePeriodStart"])
    cost = np.clip(_floats(frame[cost_column], cost_column), 0.0, None)
    # Each column is factorised once (sorted, missing → -1), so a leaf id follows the sorted
    # leaf keys whatever the row order, without a Python call per cell.
    codes, uniques = [], []
    key = np.zeros(len(frame), dtype=np.int64)
    bound = 1  # key < bound
    for col in leaf_cols:
        c, u = _factorize(frame[col])
        codes.append(c)
        uniques.append(u)
        # Mixed-radix key (sorted order of the leaf keys), re-factorised (sorted, so below the
        # row count) only when the next digit could overflow 64 bits.
        if bound * (len(u) + 1) >= 1 << 62:
            key, _ = pd.factorize(key, sort=True)
            bound = int(key.max()) + 1 if len(key) else 1
        key = key * (len(u) + 1) + (c + 1)
        bound *= len(u) + 1
    key, _ = pd.factorize(key, sort=True)
    leaf_of_row = key  # sorted dense codes: leaf ids follow the sorted leaf keys
    first_row = np.full(int(key.max()) + 1, len(key))  # each leaf's first row
    np.minimum.at(first_row, key, np.arange(len(key)))
    keys = np.column_stack([c[first_row] for c in codes])
    leaves = pd.DataFrame(
        {
            col: [None if k < 0 else uniques[j][k] for k in keys[:, j]]
            for j, col in enumerate(leaf_cols)
        },
        dtype=object,
    )
    first = day.min()
    day_idx, kept = compress((day - first).astype(int), keep_gap_days)
    n_days = len(kept)
    long = _leaf_days(leaf_of_row, day_idx, cost, len(leaves), n_days)
    if leaf_monitors:
        spend, first_day = _leaf_matrix(long, len(leaves), n_days)
        monitors, matrix = _monitors(leaves, spend, first_day, columns)
        monitors, matrix, parent, account = _leaf_monitors(
            leaves, spend, first_day, monitors, matrix
        )
    else:
        monitors, matrix = _monitors_by_block(leaves, long, n_days, columns)
        parent = account = np.full(len(monitors), -1)
    return Prepared(
        days=first + kept,
        leaves=leaves,
        leaf_row=long.leaf,
        day_row=long.day,
        cost_row=long.cost,
        monitors=monitors,
        matrix=matrix,
        leaf_parent=parent,
        leaf_account=account,
    )


class _Long(NamedTuple):
    """The long table: one entry per (leaf, day) with a row, sorted by leaf then day. Plain
    arrays, not a DataFrame: building one copies its 1–2 million entries into a block (~0.1 s
    of an incremental run over 10,000 series; session 11)."""

    leaf: np.ndarray
    day: np.ndarray
    cost: np.ndarray


def _leaf_days(
    leaf: np.ndarray, day: np.ndarray, cost: np.ndarray, n_leaves: int, n_days: int
) -> _Long:
    """Cost per (leaf, day) with a row, sorted by leaf then day: ``leaf``, ``day``, ``cost``.

    One key per cell (leaf × n_days + day), summed with ``np.bincount`` over a dense grid when
    that is at most a few times the row count (daily exports: about one row per cell), else
    over the sorted distinct keys."""
    key = leaf.astype(np.int64) * n_days + day
    if n_leaves * n_days <= max(4 * len(key), 1 << 20):
        total = np.bincount(key, weights=cost, minlength=n_leaves * n_days)
        cells = np.flatnonzero(np.bincount(key, minlength=n_leaves * n_days))
        sums = total[cells]
    else:
        cells, inverse = np.unique(key, return_inverse=True)
        sums = np.bincount(inverse, weights=cost, minlength=len(cells))
    return _Long(cells // n_days, cells % n_days, sums)


def _leaf_matrix(long: _Long, n_leaves: int, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``(n_leaves, n_days)`` spend (USD, 0 where a leaf has no row) and each leaf's first
    day with a row. Monitor series are sums of its rows (``_monitors``) and leaf monitors its
    rows (``_leaf_monitors``): one scatter of the long table instead of one per monitor column
    (session 20: 50 → 10 ms of an incremental run over 10,000 series)."""
    spend = np.zeros((n_leaves, n_days))
    # One entry per (leaf, day) in ``long``: assigned, not summed.
    spend[long.leaf, long.day] = long.cost
    return spend, _first_days(long, n_leaves, n_days)


def _first_days(long: _Long, n_leaves: int, n_days: int) -> np.ndarray:
    """Each leaf's first day with a row (``n_days`` for none)."""
    first = np.full(n_leaves, n_days)
    np.minimum.at(first, long.leaf, long.day)
    return first


def _value_codes(values: pd.Series) -> tuple[list, np.ndarray]:
    """A column's distinct values, sorted (missing left out), and each leaf's index among them
    (-1 for a missing value)."""
    names = sorted(v for v in values.unique() if v is not None)
    code = values.map({v: i for i, v in enumerate(names)}).fillna(-1).astype(int).to_numpy()
    return names, code


def _value_monitors(col: str, names: list, starts: np.ndarray, sums: np.ndarray) -> list[Monitor]:
    """One monitor per value of ``col`` starting on ``starts``; ``sums`` (its rows) get NaN
    before each start, in place."""
    sums[np.arange(sums.shape[1])[None, :] < starts[:, None]] = np.nan
    return [Monitor(col, name, start) for name, start in zip(names, starts.tolist(), strict=True)]


def _monitors(
    leaves: pd.DataFrame, spend: np.ndarray, first: np.ndarray, columns: tuple[str, ...]
) -> tuple[list[Monitor], np.ndarray]:
    """Total spend and one monitor per value of each column: the sum of its leaves' rows of
    ``spend``, added in leaf order (so each day's sum is the one a running total over the long
    table gives), NaN before its first leaf's first day."""
    monitors = [Monitor(None, None, 0)]
    rows = [np.add.reduce(spend, axis=0)[None, :]]
    for col in columns:
        names, code = _value_codes(leaves[col])
        if not names:
            continue
        order = np.argsort(code, kind="stable")
        order = order[code[order] >= 0]  # leaf ids by value, ascending within one
        bounds = np.searchsorted(code[order], np.arange(len(names)))
        by_value = spend[order]
        block = np.add.reduceat(by_value, bounds, axis=0)
        # reduceat adds long segments pairwise; a value of more than two leaves is summed row
        # after row instead, as every other sum of this series is (identical to the bit).
        ends = np.append(bounds[1:], len(order))
        for i in np.flatnonzero(ends - bounds > 2).tolist():
            block[i] = np.add.reduce(by_value[bounds[i] : ends[i]], axis=0)
        starts = np.minimum.reduceat(first[order], bounds)
        monitors.extend(_value_monitors(col, names, starts, block))
        rows.append(block)
    return monitors, np.vstack(rows)


#: Cells of one dense block of leaves when leaf monitors are off (``_monitors_by_block``):
#: 1 Mi floats, 8 MB.
BLOCK_CELLS = 1 << 20


def _monitors_by_block(
    leaves: pd.DataFrame, long: _Long, n_days: int, columns: tuple[str, ...]
) -> tuple[list[Monitor], np.ndarray]:
    """``_monitors`` without the whole ``(n_leaves, n_days)`` matrix, for leaf monitors off: a
    CUR with millions of per-request resource ids then needs memory for its monitors only.
    Leaves are scattered into dense blocks of at most ``BLOCK_CELLS`` cells, in leaf order, and
    each block's rows are added to its monitors' rows one after another, so every sum is the one
    ``_monitors`` gives (the same additions in the same order)."""
    n_leaves = len(leaves)
    first = _first_days(long, n_leaves, n_days)
    total = np.zeros((1, n_days))
    groups = []  # (column, value names, value code per leaf or -1, running sums)
    for col in columns:
        names, code = _value_codes(leaves[col])
        if names:
            groups.append((col, names, code, np.zeros((len(names), n_days))))
    step = max(1, BLOCK_CELLS // max(n_days, 1))
    for a in range(0, n_leaves, step):
        b = min(a + step, n_leaves)
        lo, hi = np.searchsorted(long.leaf, [a, b])
        block = np.zeros((b - a, n_days))
        block[long.leaf[lo:hi] - a, long.day[lo:hi]] = long.cost[lo:hi]
        total = np.add.reduce(np.vstack([total, block]), axis=0, keepdims=True)
        for _, _, code, sums in groups:
            part = code[a:b]
            np.add.at(sums, part[part >= 0], block[part >= 0])
    monitors = [Monitor(None, None, 0)]
    rows = [total]
    for col, names, code, sums in groups:
        starts = np.full(len(names), n_days)
        np.minimum.at(starts, code[code >= 0], first[code >= 0])
        monitors.extend(_value_monitors(col, names, starts, sums))
        rows.append(sums)
    return monitors, np.vstack(rows)


def _leaf_monitors(leaves, spend, first, monitors, matrix):
    """Append one monitor per leaf: an incident on one resource is often too small for its
    service's series when another leaf there is noisy (a batch job), yet plain on its own. Its
    percent threshold is judged against the smaller of its ServiceName monitor (``leaf_parent``)
    and its SubAccountId monitor (``leaf_account``, -1 when none). ``spend`` becomes the leaf
    rows (NaN before each leaf's first day)."""
    service_row = {m.value: i for i, m in enumerate(monitors) if m.column == "ServiceName"}
    account_row = {m.value: i for i, m in enumerate(monitors) if m.column == "SubAccountId"}
    n_days = spend.shape[1]
    spend[np.arange(n_days)[None, :] < first[:, None]] = np.nan
    parent = [-1] * len(monitors)
    account = [-1] * len(monitors)
    extra = []
    services = leaves["ServiceName"].tolist()
    subs = leaves["SubAccountId"].tolist()
    for lid, service, sub in zip(leaves.index.tolist(), services, subs, strict=True):
        if service is not None and sub is not None:
            scope = (("ServiceName", str(service)), ("SubAccountId", str(sub)))
        else:
            named = (("ServiceName", service), ("SubAccountId", sub))
            scope = tuple((c, str(v)) for c, v in named if v is not None)
        extra.append(Monitor(LEAF, str(lid), int(first[lid]), scope))
        parent.append(service_row.get(service, 0))
        account.append(account_row.get(sub, -1))
    return monitors + extra, np.vstack([matrix, spend]), np.array(parent), np.array(account)


def monitor_count(
    frame: pd.DataFrame, columns: tuple[str, ...] = MONITOR_COLUMNS, total: bool = True
) -> int:
    """Series a frame yields: total (if watched) + distinct non-null values of each column."""
    if frame.empty:
        return 0
    tags = tuple(c for c in columns if c.startswith("Tags."))
    if tags:
        frame = with_tag_columns(frame, tags)
    return int(total) + sum(int(frame[col].dropna().nunique()) for col in columns)

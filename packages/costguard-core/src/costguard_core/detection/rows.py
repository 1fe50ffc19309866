"""Per-monitor settings: each monitor row gets its own ``DetectorConfig`` (monitor thresholds
from the monitors file, z bounds scaled by feedback), and rows sharing one are judged together.

Only thresholds differ between rows (``min_impact_usd``, ``min_impact_pct``, ``combine``, z
bounds, severity tiers); windows are the base config's, so every row's expected spend is the
same whatever its group, which is what lets a leaf row use its parent's expected spend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costguard_core.detection.baseline import Evaluation, evaluate, expected
from costguard_core.detection.churn import replaced_spend
from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.feedback import scope_key
from costguard_core.detection.monitors import LeafPercentOf, MonitorsConfig
from costguard_core.detection.pooled import account_factors, pooled_factor
from costguard_core.detection.screen import (
    candidates,
    may_run_after_idle,
    plain_expected,
    screened,
)
from costguard_core.detection.series import LEAF, Prepared
from costguard_core.detection.tails import on_window_days


def row_configs(
    prep: Prepared,
    base: DetectorConfig,
    monitors: MonitorsConfig,
    z_scale: dict[tuple[tuple[str, str], ...], float],
) -> tuple[list[DetectorConfig], np.ndarray]:
    """Per monitor row: its config, and whether it is watched (total spend may be unwatched; a
    leaf row takes its parent monitor's thresholds, its service's ``values`` entry included).
    ``z_scale`` maps a scope to the factor its z bounds are multiplied by."""
    specs = {column: monitors.spec(column) for column in {m.column for m in prep.monitors}}
    own: dict[tuple[str | None, str | None], DetectorConfig] = {}
    configs, enabled = [], []
    for row, mon in enumerate(prep.monitors):
        # A leaf takes its ServiceName monitor's thresholds (that service's own, if set).
        judged = prep.monitors[prep.leaf_parent[row]] if mon.column == LEAF else mon
        spec = specs.get(judged.column)
        # One config per family, and one per value that has its own (``values``).
        own_value = spec is not None and spec.values and str(judged.value) in spec.values
        key = (judged.column, str(judged.value) if own_value else None)
        if key not in own:
            own[key] = spec.config(base, key[1]) if spec else base
        cfg = own[key]
        factor = z_scale.get(scope_key(mon.scope), 1.0)
        if factor != 1.0:
            cfg = cfg.model_copy(
                update={
                    "z_threshold": cfg.z_threshold * factor,
                    "single_day_z": cfg.single_day_z * factor,
                }
            )
        configs.append(cfg)
        enabled.append(mon.column is not None or monitors.spec(None) is not None)
    return configs, np.array(enabled, dtype=bool)


def _groups(configs: list[DetectorConfig], fields: set[str] | None = None) -> list[tuple]:
    keys: dict[str, tuple[DetectorConfig, list[int]]] = {}
    dumped: dict[int, str] = {}  # rows share config objects: serialise each object once
    for row, cfg in enumerate(configs):
        key = dumped.get(id(cfg))
        if key is None:
            key = dumped[id(cfg)] = cfg.model_dump_json(include=fields)
        keys.setdefault(key, (cfg, []))[1].append(row)
    return [(cfg, np.array(rows)) for cfg, rows in keys.values()]


def _rows_or_nan(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]``, NaN for rows of -1."""
    return np.where(rows[:, None] >= 0, a[np.maximum(rows, 0)], np.nan)


_SIZE = {"min_impact_usd", "min_impact_pct", "combine"}


def service_in_account(
    prep: Prepared, base: DetectorConfig
) -> tuple[np.ndarray, np.ndarray] | None:
    """Per monitor row, the expected spend of its leaf's service within the leaf's billing
    account (ServiceName × BillingAccountId) — plain (``screen.plain_expected``; 0 where it may
    be an on/off job) and judged (``baseline.expected``) — NaN for rows that are not leaves;
    ``(n_rows, n_days)`` each. None when the frame holds at most one billing account: the
    ServiceName monitor is then that series already.

    A frame may hold several organisations (billing accounts) using the same services; a leaf's
    percent test is judged against its own organisation's service, not everyone's, so an
    incident is judged alike whether its organisation is scanned alone or with others."""
    if row_accounts(prep) is None:
        return None
    shape = prep.matrix.shape
    plain = np.full(shape, np.nan)
    judged = np.full(shape, np.nan)
    rows, cell = _service_cells(prep)
    if not len(rows):
        return plain, judged
    y = prep.matrix[rows]
    total = np.zeros((cell.max() + 1, shape[1]))
    np.add.at(total, cell, np.nan_to_num(y))
    seen = np.zeros(total.shape, dtype=bool)
    np.logical_or.at(seen, cell, ~np.isnan(y))
    total[~seen] = np.nan
    may_idle = may_run_after_idle(total, on_window_days(base))
    p = plain_expected(total, base, prep.days)
    p[may_idle] = 0.0
    plain[rows] = p[cell]
    judged[rows] = expected(total, base, prep.days)[cell]
    return plain, judged


def _service_cells(prep: Prepared) -> tuple[np.ndarray, np.ndarray]:
    """The leaf monitor rows, and per row a code of its ServiceName × BillingAccountId cell."""
    rows = np.flatnonzero(prep.leaf_parent >= 0)
    if not len(rows):
        return rows, np.zeros(0, dtype=np.int64)
    lids = np.array([int(str(prep.monitors[r].value)) for r in rows])
    keys = prep.leaves.loc[lids, ["ServiceName", "BillingAccountId"]].astype(str)
    return rows, np.asarray(pd.factorize(pd.MultiIndex.from_frame(keys))[0])


def row_accounts(prep: Prepared) -> np.ndarray | None:
    """Per monitor row, the code of the one BillingAccountId its leaves belong to, -1 when they
    span several (or have none); None when the frame holds at most one billing account."""
    codes, names = pd.factorize(prep.leaves["BillingAccountId"], use_na_sentinel=True)
    if len(names) <= 1:
        return None
    codes = np.asarray(codes)
    out = np.full(len(prep.monitors), -1, dtype=np.int64)
    single: dict[str, dict[str, int]] = {}
    for column in {m.column for m in prep.monitors if m.column not in (None, LEAF)}:
        span = pd.DataFrame({"v": prep.leaves[column].to_numpy(), "c": codes})
        span = span[span["v"].notna()].groupby("v")["c"].agg(["min", "max"])
        one = span[(span["min"] == span["max"]) & (span["min"] >= 0)]["min"]
        single[column] = {str(k): int(v) for k, v in one.items()}
    for row, mon in enumerate(prep.monitors):
        if mon.column == LEAF:
            out[row] = codes[int(str(mon.value))]
        elif mon.column is not None:
            out[row] = single[mon.column].get(str(mon.value), -1)
    return out


def evaluate_rows(
    prep: Prepared,
    configs: list[DetectorConfig],
    from_day: int | None = None,
    leaf_percent_of: LeafPercentOf = "lasting",
) -> tuple[Evaluation, np.ndarray | None]:
    """Monitor rows first; leaf rows then use the smaller of their ServiceName and SubAccountId
    monitors' expected spend as the percent threshold's reference (``series._leaf_monitors``),
    with ``leaf_percent_of="resource"`` their own, and with ``"lasting"`` their own for the
    rules that need a lasting rise (three days, drift, new spend) and their parents' for the
    one- and two-day rules (``MonitorsConfig.leaf_percent_of``).
    With ``from_day``, rows that cannot be flagged from that day on (``screen.candidates``, run
    once per set of size thresholds) are not judged. Returns the evaluation and the pooled tail
    factor: per day (``pooled.pooled_factor``), or per row and day when the frame holds several
    billing accounts (``pooled.account_factors``, ``row_accounts``); None: no rows."""
    n = len(prep.monitors)
    leaf = prep.leaf_parent >= 0
    keep = np.ones(n, dtype=bool)
    plain = None
    cells = service_in_account(prep, configs[0]) if configs else None
    cell_plain, cell_judged = cells if cells is not None else (None, None)
    if from_day is not None:
        keep[:] = False
        for cfg, rows in _groups(configs, _SIZE):
            k, plain = candidates(
                prep.matrix,
                cfg,
                prep.days,
                prep.leaf_parent,
                from_day,
                prep.leaf_account,
                cell_plain,
                reference=leaf_percent_of,
            )
            keep[rows] = k[rows]
        keep[prep.leaf_parent[leaf & keep]] = True
    shape = prep.matrix.shape
    # The frame's pooled tail factor, from every leaf row (screened or not; every row when
    # there are no leaf monitors) and the base windows. Leaves only: an incident shows once
    # there, not again in each of its service, account, provider and total (round 4).
    base = configs[0] if configs else None
    factor = None
    if base is not None:
        exp_all = plain if plain is not None else plain_expected(prep.matrix, base, prep.days)
        pool = leaf if leaf.any() else ~leaf
        accounts = row_accounts(prep)
        if accounts is None:
            factor = pooled_factor(prep.matrix[pool], exp_all[pool], base)
        else:
            factor = account_factors(
                prep.matrix[pool], exp_all[pool], accounts[pool], accounts, base
            )
    replaced = _replaced(prep, base) if base is not None else np.zeros(shape)
    if plain is not None:
        out = screened(prep.matrix, plain)
    else:
        none = np.zeros(shape, bool)
        out = Evaluation(np.empty(shape), np.empty(shape), np.empty(shape), none, none.copy())
    for part in (~leaf & keep, leaf & keep):
        for cfg, rows in _groups([configs[r] for r in np.flatnonzero(part)]):
            rows = np.flatnonzero(part)[rows]
            up = prep.leaf_parent[rows]
            ref, rep = (out.expected[up], replaced[rows]) if leaf[rows[0]] else (None, None)
            if ref is not None and leaf_percent_of != "resource":
                ref = np.fmin(ref, _rows_or_nan(out.expected, prep.leaf_account[rows]))
                if cell_judged is not None:
                    ref = np.fmin(ref, cell_judged[rows])
            short_ref = None
            if leaf_percent_of == "resource":
                ref = None  # the leaf's own expected spend
            elif leaf_percent_of == "lasting" and ref is not None:
                ref, short_ref = None, ref  # own for lasting rises, the parents' for short ones
            row_factor = factor[rows] if factor is not None and factor.ndim == 2 else factor
            ev = evaluate(
                prep.matrix[rows],
                cfg,
                prep.days,
                ref,
                rep,
                row_factor,
                leaf=bool(leaf[rows[0]]),
                short_ref=short_ref,
                missing=None if prep.missing is None else prep.missing[rows],
            )
            for name in Evaluation.__dataclass_fields__:
                getattr(out, name)[rows] = getattr(ev, name)
    return out, factor


def _replaced(prep: Prepared, base: DetectorConfig) -> np.ndarray:
    """Per monitor row and day, USD/day of the resources a new leaf replaced
    (``churn.replaced_spend``; siblings: leaves of the same ServiceName within the same
    BillingAccountId); 0 for rows that are not leaves."""
    out = np.zeros(prep.matrix.shape)
    rows, cell = _service_cells(prep)
    if len(rows):
        days = base.min_history_days
        out[rows] = replaced_spend(prep.matrix[rows], cell, days, days)
    return out

"""``detect``: monitors → anomalous runs → one anomaly per incident, with root causes."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from costguard_core.detection.attribution import drivers, leaf_z, lingering_excess, root_causes
from costguard_core.detection.baseline import Evaluation
from costguard_core.detection.config import DetectorConfig
from costguard_core.detection.exportgaps import fill_export_gaps
from costguard_core.detection.feedback import suppressed, z_multipliers
from costguard_core.detection.gaps import incident_memory_days, lookback_days
from costguard_core.detection.monitors import DEFAULT_MONITORS, MonitorsConfig
from costguard_core.detection.rows import evaluate_rows, row_configs
from costguard_core.detection.series import LEAF, Monitor, Prepared, monitor_count, prepare
from costguard_core.models import AnomalyCreate, FeedbackItem


@dataclass
class _Run:
    """Consecutive anomalous days ``start..end`` (day indices) of one monitor."""

    monitor: Monitor
    row: int
    start: int
    end: int
    excess: float  # USD above expected on the start day
    drivers: frozenset[int] = field(default_factory=frozenset)


def fingerprint(scope: dict[str, str], start: date) -> str:
    """Stable anomaly id: first 16 hex digits of sha1 over the scope and start day."""
    key = json.dumps({"scope": scope, "start": start.isoformat()}, sort_keys=True)
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def confidence(z: float, bound: float) -> float:
    """How far past the robust-z bound the start day is: 0.5 at the bound, rising towards 1.

    ``1 - 0.5 * exp(-(z - bound) / bound)``: each further bound's worth of z halves the
    remaining doubt by a factor e (z = 2 × bound gives 0.82, 3 × bound gives 0.93).
    """
    return float(min(1.0, max(0.0, 1.0 - 0.5 * math.exp(-(z - bound) / bound))))


def _runs(prep: Prepared, ev: Evaluation, enabled: np.ndarray) -> list[_Run]:
    flags = (ev.flagged & enabled[:, None]).astype(np.int8)
    pad = np.zeros((len(flags), 1), dtype=np.int8)
    edges = np.diff(np.concatenate([pad, flags, pad], axis=1), axis=1)
    # Row-major order: each row's runs by start day, as in a per-row loop.
    rows, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)
    return [
        _Run(prep.monitors[r], int(r), int(s), int(e - 1), float(ev.excess[r, s]))
        for r, s, e in zip(rows.tolist(), starts.tolist(), ends.tolist(), strict=True)
    ]


def _corroborated(
    prep: Prepared,
    ev: Evaluation,
    run: _Run,
    config: DetectorConfig,
    factor: np.ndarray | None,
) -> bool:
    """Whether an aggregate monitor's single-day rise is one leaf's own single-day excursion.

    A rise flagged on the single-day bound alone on a monitor summing several leaves is kept
    only if one of its leaves, against its own baseline and scale (``attribution.leaf_z``), is
    past the same bound (``single_day_z`` × the pooled tail factor) that day: otherwise it is
    noise adding up across leaves, or a leaf's run that is ordinary for that leaf (a batch
    job). Leaf monitors and runs flagged by another rule (two days, drift, new spend) are not
    checked. Reads up to the start day only.
    """
    if run.monitor.column == LEAF or not ev.single[run.row, run.start]:
        return True
    if factor is None:
        scale = 1.0
    elif factor.ndim == 2:  # per row and day: the frame holds several billing accounts
        scale = float(factor[run.row, run.start])
    else:
        scale = float(factor[run.start])
    bound = config.single_day_z * scale
    return leaf_z(prep, run.monitor, run.start, config) > bound


def _incidents(
    prep: Prepared,
    runs: list[_Run],
    config: DetectorConfig,
    ev: Evaluation,
    configs: list[DetectorConfig],
    factor: np.ndarray | None,
) -> list[_Run]:
    """Keep one run per incident, deciding on each start day from data up to that day.

    A run starting on day s is dropped when its driver leaves intersect those of a run (kept or
    dropped) that started earlier and is still flagged on s, or ended at most ``cooldown_days``
    before it: it is the same incident seen later by another monitor, or flaring again.
    Runs starting on the same day with intersecting drivers form one incident;
    of those, the most specific monitor (ServiceName, then SubAccountId, then ProviderName, then
    total) whose start-day excess is at least ``explain_fraction`` of the incident's largest is
    kept, larger excess breaking ties.
    """
    seen: list[_Run] = []
    kept: list[_Run] = []
    runs = [r for r in runs if _corroborated(prep, ev, r, configs[r.row], factor)]
    for s in sorted({r.start for r in runs}):
        fresh = [r for r in runs if r.start == s]
        explained = []
        for r in fresh:
            r.drivers, leaf_rise = drivers(prep, r.monitor, s, config)
            # Hierarchical consistency: a monitor's rise must be its leaves' rise, each leaf
            # judged against its own baseline (a batch job's usual run is no rise of its own).
            if leaf_rise >= config.leaf_explain_min * r.excess:
                explained.append(r)
        fresh = explained
        ongoing = [r for r in seen if r.end >= s - config.cooldown_days]
        fresh = [r for r in fresh if not any(r.drivers & o.drivers for o in ongoing)]
        # The weekday median learns a new level over season_weeks weeks, so an incident that
        # started that recently can still be what a monitor's rise is (session 4; before, only
        # runs within the cooldown were asked).
        learning = [
            r
            for r in seen
            if r.end >= s - config.cooldown_days or r.start >= s - incident_memory_days(config)
        ]
        fresh = [r for r in fresh if not _lingering(prep, r, learning, s, configs[r.row], ev)]
        for group in _components(fresh):
            top = max(r.excess for r in group)
            able = [r for r in group if r.excess >= config.explain_fraction * top]
            kept.append(min(able, key=lambda r: (r.monitor.rank, -r.excess, str(r.monitor.value))))
        seen.extend(fresh)
    return kept


def _lingering(
    prep: Prepared,
    run: _Run,
    earlier: list[_Run],
    day: int,
    config: DetectorConfig,
    ev: Evaluation,
) -> bool:
    """Whether an earlier incident still explains a run's rise: the driver leaves (inside the
    run's monitor) of ``earlier`` runs (started before ``day`` and still flagged, within the
    cooldown, or started within ``gaps.incident_memory_days``) still hold at least
    ``leaf_explain_min`` of its start-day excess in the part of their spend the monitor's
    weekday median has not learnt yet (``attribution.lingering_excess``), or what is left
    without that part would not pass ``z_threshold``. A monitor's weekday median takes weeks
    to learn a new resource or a shifted level that the leaf's own baseline
    learnt in days; the same incident is not raised again meanwhile."""
    inside = set(prep.leaves_in(run.monitor).tolist())
    rise = 0.0
    for o in earlier:
        leaves = frozenset(o.drivers & inside)
        if leaves and o.start < day:
            rise += lingering_excess(prep, leaves, o.start, day, config)
    if rise <= 0:
        return False
    if rise >= config.leaf_explain_min * run.excess:
        return True
    # What is left of the rise without the earlier incident's leaves would not pass even the
    # two-day bound.
    z = float(ev.z[run.row, day])
    return np.isfinite(z) and z * (run.excess - rise) / run.excess <= config.z_threshold


def _components(runs: list[_Run]) -> list[list[_Run]]:
    """Groups of runs linked by intersecting driver sets (transitively)."""
    groups: list[list[_Run]] = []
    for r in runs:
        linked = [i for i, g in enumerate(groups) if any(r.drivers & o.drivers for o in g)]
        merged = [r, *(o for i in linked for o in groups[i])]
        groups = [g for i, g in enumerate(groups) if i not in linked] + [merged]
    return groups


def detect(
    frame: pd.DataFrame,
    *,
    since: date | None = None,
    cost_column: str = "EffectiveCost",
    config: DetectorConfig | None = None,
    monitors: MonitorsConfig | None = None,
    feedback: Sequence[FeedbackItem] = (),
) -> list[AnomalyCreate]:
    """Cost increases in a FOCUS daily frame, one ``AnomalyCreate`` per incident, by start day.

    ``frame`` has ``ChargePeriodStart`` (UTC day), the leaf columns (ProviderName,
    BillingAccountId, SubAccountId, ServiceName, RegionId, ResourceId), ``BillingCurrency`` (one
    value) and ``cost_column`` (Decimal or numbers, USD). Monitors: total spend and each
    ProviderName, ServiceName and SubAccountId. Day d of a monitor is anomalous when, against a
    baseline built from days before d only (see ``baseline``), its excess passes the robust-z
    bound and the USD/percent thresholds of ``config``; consecutive anomalous days form one
    anomaly, reported from the day it starts. Nothing about day d reads a later day.

    ``since`` limits the report to anomalies starting on or after it; earlier days still train
    the baselines. Figures: ``expected_cost``/``actual_cost`` are the monitor's on the start day,
    ``impact_usd`` its excess summed over start..end, ``severity`` from ``config`` tiers on
    impact, ``confidence`` from the start day's z (see ``confidence``). Negative rows (credits,
    refunds) are left out of every sum. Raises ``InputError`` on missing columns, non-numeric
    costs or more than one currency.

    ``monitors`` (``detection.monitors``) replaces the default monitors (total, ProviderName,
    ServiceName, SubAccountId and every leaf) and sets per-monitor thresholds and tiers.
    ``feedback`` (answers on earlier anomalies, ``detection.feedback``) suppresses repeats of a
    pattern marked not an issue or planned, and scales each monitor's z bounds.
    """
    config = config or DetectorConfig()
    monitors = monitors or DEFAULT_MONITORS
    prep = prepare(
        frame, cost_column, lookback_days(config), monitors.columns, monitors.leaf_monitors
    )
    prep = fill_export_gaps(prep, config)
    configs, enabled = row_configs(prep, config, monitors, z_multipliers(feedback))
    # Without since the screen still applies from day 0: it only skips series that can never
    # be flagged, which on long, mostly idle histories is most of them.
    from_day = 0
    if since is not None:
        # Runs that end within cooldown_days, or start within season_weeks weeks, before since
        # still decide what is new on since.
        first = int(np.searchsorted(prep.days, np.datetime64(since, "D")))
        from_day = max(0, first - incident_memory_days(config) - config.drift_window_days)
    ev, factor = evaluate_rows(prep, configs, from_day, monitors.leaf_percent_of)
    out = []
    for run in _incidents(prep, _runs(prep, ev, enabled), config, ev, configs, factor):
        start = prep.days[run.start].astype(date)
        if since is not None and start < since:
            continue
        impact = float(ev.excess[run.row, run.start : run.end + 1].sum())
        own = configs[run.row]
        anomaly = AnomalyCreate(
            id=fingerprint(run.monitor.scope, start),
            start=start,
            end=prep.days[run.end].astype(date),
            scope=run.monitor.scope,
            expected_cost=float(ev.expected[run.row, run.start]),
            actual_cost=float(prep.matrix[run.row, run.start]),
            impact_usd=impact,
            severity=own.severity(impact),
            confidence=confidence(float(ev.z[run.row, run.start]), own.z_threshold),
            root_causes=root_causes(prep, run.monitor, run.start, run.end, config),
        )
        if not suppressed(anomaly, feedback, own):
            out.append(anomaly)
    return sorted(out, key=lambda a: (a.start, -a.impact_usd, a.id))


def series_count(frame: pd.DataFrame, monitors: MonitorsConfig | None = None) -> int:
    """Monitors ``detect`` scans (leaf monitors aside): total + each value of each dimension
    (default: ProviderName, ServiceName and SubAccountId)."""
    monitors = monitors or DEFAULT_MONITORS
    return monitor_count(frame, monitors.columns, monitors.spec(None) is not None)

"""Feedback used by detection: patterns marked planned (for good) or not an issue (for six weeks)
are not raised again in the same shape, and a monitor's sensitivity follows its false alarms.

**Same shape** (``same_shape``): a new anomaly has the shape of a marked one when (1) its scope is
equal, (2) its *top leaves* are the same set — the leading root causes covering 80 % of the
share, at most 3, each leaf named by ``LEAF_COLUMNS`` — and (3) its relative excess on the start
day, (actual − expected) / max(expected, ``min_impact_usd``), is within a factor 2 of the marked
one's (½× .. 2×). Only anomalies starting after the marked one are suppressed (the marked one
itself is still reported, so re-posting it stays idempotent): after a ``planned_activity``
answer for good, after a ``not_an_issue`` answer for ``NOT_AN_ISSUE_DAYS`` (42) days from the
marked anomaly's start (session 16). A permanent mute after a one-off noise alert hid real
incidents on the same resource months later: on the benchmark's development lines a user
answering every alert lost 6 incidents against no feedback (201 false alarms + misses against
197; bench/README.md "Feedback"), each a drift, spike or loop 47–121 days after a one-day
noise alert on its resource; with the mute lapsing after 42 days, 195.

**Sensitivity** (``z_multipliers``): each ``not_an_issue`` answer on a monitor (same scope)
multiplies its z bounds (``z_threshold`` and ``single_day_z``) by 1.25 and each ``accurate``
answer divides them by 1.25, the product kept within ×1 .. ×2. ``planned_activity`` says the
alarm was right but expected, so it changes no bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from costguard_core.detection.config import LEAF_COLUMNS, DetectorConfig
from costguard_core.models import AnomalyCreate, FeedbackItem, RootCause

STEP = 1.25
MAX_MULTIPLIER = 2.0
TOP_SHARE = 0.8
TOP_LEAVES = 3
SHAPE_RATIO = 2.0
#: Days after a ``not_an_issue`` answer's anomaly started during which the same shape is not
#: raised again: six weeks, longer than a monthly cycle plus a week, so a month-end pattern
#: marked once is still muted at its next occurrence. Walk-forward benchmark (a user answering
#: every alert, eleven development lines, false alarms + misses): 35/42/56/90 days
#: 196/195/196/199, for good 201, never 197 (bench/README.md "Feedback").
NOT_AN_ISSUE_DAYS = 42


def _scope_key(scope: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(scope.items()))


def top_leaves(causes: Sequence[RootCause]) -> frozenset[tuple[str | None, ...]]:
    """Leading root causes covering ``TOP_SHARE`` of the share, at most ``TOP_LEAVES``."""
    out, covered = set(), 0.0
    for cause in causes[:TOP_LEAVES]:
        out.add(tuple(getattr(cause, col) for col in LEAF_COLUMNS))
        covered += cause.share
        if covered >= TOP_SHARE:
            break
    return frozenset(out)


def relative_excess(actual: float, expected: float, config: DetectorConfig) -> float:
    """Start-day excess as a fraction of expected spend (floored at ``min_impact_usd``, and
    1 cent, so a new service's excess is finite)."""
    return (actual - expected) / max(expected, config.min_impact_usd, 0.01)


def same_shape(anomaly: AnomalyCreate, item: FeedbackItem, config: DetectorConfig) -> bool:
    """Whether ``anomaly`` repeats the pattern ``item`` judged (see the module docstring)."""
    if _scope_key(anomaly.scope) != _scope_key(item.scope):
        return False
    if top_leaves(anomaly.root_causes) != top_leaves(item.root_causes):
        return False
    new = relative_excess(anomaly.actual_cost, anomaly.expected_cost, config)
    old = relative_excess(item.actual_cost, item.expected_cost, config)
    if new <= 0 or old <= 0:
        return False
    return abs(math.log(new / old)) <= math.log(SHAPE_RATIO)


def suppressed(
    anomaly: AnomalyCreate, items: Iterable[FeedbackItem], config: DetectorConfig
) -> bool:
    """True when a ``planned_activity`` answer on an earlier anomaly, or a ``not_an_issue``
    answer on one that started at most ``NOT_AN_ISSUE_DAYS`` days before, has the same shape."""
    return any(
        _mutes(item, anomaly)
        and anomaly.id != item.anomaly_id
        and same_shape(anomaly, item, config)
        for item in items
    )


def _mutes(item: FeedbackItem, anomaly: AnomalyCreate) -> bool:
    days = (anomaly.start - item.start).days
    if item.kind == "planned_activity":
        return days > 0
    return item.kind == "not_an_issue" and 0 < days <= NOT_AN_ISSUE_DAYS


def z_multipliers(items: Iterable[FeedbackItem]) -> dict[tuple[tuple[str, str], ...], float]:
    """Per monitor scope: the factor its z bounds are multiplied by (1 .. 2)."""
    steps: dict[tuple[tuple[str, str], ...], int] = {}
    for item in items:
        delta = {"not_an_issue": 1, "accurate": -1}.get(item.kind, 0)
        key = _scope_key(item.scope)
        steps[key] = steps.get(key, 0) + delta
    return {k: min(MAX_MULTIPLIER, max(1.0, STEP**n)) for k, n in steps.items()}


def scope_key(scope: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Hashable monitor identity used by ``z_multipliers``."""
    return _scope_key(scope)

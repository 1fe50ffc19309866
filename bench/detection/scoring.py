"""Event scoring of detected anomalies against labelled incidents.

Matching rule (the issue's): an incident is *found* when an anomaly of its tenant starts within
the tolerance of its start — from 1 day before to ``TOLERANCE_DAYS[kind]`` days after — and names
the incident's ServiceName and SubAccountId together in one of its first three root causes. Each
anomaly matches at most one incident and each incident at most one anomaly (earliest first);
every anomaly left unmatched is a false alarm, so a second anomaly for the same incident counts
against precision.

Root cause: over incidents that an anomaly starts within tolerance of (whatever its causes), top-1
is the share whose first root cause is the injected leaf (its ResourceId) and top-3 the share
with the leaf among the first three. Delay: anomaly start − incident start in days, per kind.
A leaf without a ResourceId (the month-start support fee) is labelled ``"nan"`` by the generator
(pandas turns its None into NaN once a row is appended) and named ``None`` by detectors; both
mean "no ResourceId" and compare equal (round 4; before, such incidents always counted as a
root-cause miss, for every detector).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import numpy as np

#: Drift builds up over 1–3 weeks, so its "start" is fuzzy: any start within its first two weeks
#: counts. Abrupt kinds must be caught within 3 days.
TOLERANCE_DAYS = {"spike": 2, "shift": 3, "new": 3, "weekend_loop": 2, "drift": 14}


def _leaf_id(resource: object) -> object:
    """ResourceId for comparison: a missing one (None, NaN, or its text "nan"/"None") is None."""
    if resource is None or resource != resource or resource in ("nan", "None"):
        return None
    return resource


@dataclass(frozen=True)
class Found:
    """An anomaly as the scorer sees it: tenant, start day, root causes (most responsible first)
    as ``(SubAccountId, ServiceName, ResourceId)``."""

    tenant: int
    start: date
    causes: tuple[tuple[str | None, str | None, str | None], ...]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    rc_total: int = 0
    top1: int = 0
    top3: int = 0
    delays: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    recall_by_kind: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def median_delay(self, kind: str) -> float:
        d = self.delays.get(kind, [])
        return float(np.median(d)) if d else float("nan")

    def row(self) -> dict[str, float]:
        out = {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "top1": self.top1 / self.rc_total if self.rc_total else 0.0,
            "top3": self.top3 / self.rc_total if self.rc_total else 0.0,
            "alarms": self.tp + self.fp,
            "false_alarms": self.fp,
        }
        for kind in TOLERANCE_DAYS:
            out[f"delay_{kind}"] = self.median_delay(kind)
        return out


def _in_window(inc, a: Found) -> bool:
    lag = (a.start - inc.start).days
    return -1 <= lag <= TOLERANCE_DAYS[inc.kind]


def score(incidents: list, found: list[Found], from_day: date | None = None) -> Score:
    """Score anomalies ``found`` against ``incidents`` (generator ``Incident`` objects)."""
    s = Score()
    if from_day is not None:  # burn-in: every detector lacks history before it
        found = [a for a in found if a.start >= from_day]
    by_tenant: dict[int, list[Found]] = defaultdict(list)
    for a in found:
        by_tenant[a.tenant].append(a)
    for items in by_tenant.values():
        items.sort(key=lambda a: a.start)
    used: set[int] = set()
    for inc in sorted(incidents, key=lambda i: (i.tenant, i.start)):
        window = [a for a in by_tenant[inc.tenant] if _in_window(inc, a)]
        if window:  # root-cause accuracy of the first anomaly in the window
            first = window[0]
            leaves = [_leaf_id(c[2]) for c in first.causes]
            target = _leaf_id(inc.ResourceId)
            s.rc_total += 1
            s.top1 += leaves[:1] == [target]
            s.top3 += target in leaves[:3]
        hit = next(
            (
                a
                for a in window
                if id(a) not in used
                and any(c[0] == inc.SubAccountId and c[1] == inc.ServiceName for c in a.causes[:3])
            ),
            None,
        )
        s.recall_by_kind[inc.kind].append(hit is not None)
        if hit is None:
            s.fn += 1
            continue
        used.add(id(hit))
        s.tp += 1
        s.delays[inc.kind].append((hit.start - inc.start).days)
    s.fp = sum(1 for a in found if id(a) not in used)
    return s

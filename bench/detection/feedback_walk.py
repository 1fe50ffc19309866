"""Feedback benchmark: CostGuard with a user who answers every alert as it is raised.

Walks each tenant forward in time: ``detect`` runs with the answers given so far; the earliest
anomalies not yet raised (those starting on the earliest day after the last answered one) are
raised, and the simulated user answers each at once — ``accurate`` when it starts within the
tolerance of one of the tenant's labelled incidents and names its ServiceName and SubAccountId in
its first three root causes (``scoring``'s match rule, duplicates included), else
``not_an_issue`` — and the walk goes on from the next day. What was raised is scored as in
``run.py``; an alert once raised stays raised even if a later run with more answers would not
give it (the user saw it). So the line measures what the detector's use of feedback (a marked
pattern not raised again in the same shape, per-monitor sensitivity ×1.25 per answer, within
×1..×2: ``detection.feedback``) changes for a user who answers everything.

    .venv/bin/python bench/detection/feedback_walk.py LINE [LINE ...]

LINE is a config name with an optional seed (``dev9:22``); holdouts print their summary only.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
import totals  # noqa: E402
from costguard_core.detection import detect  # noqa: E402
from costguard_core.models import AnomalyCreate, FeedbackItem  # noqa: E402
from scoring import Found, score  # noqa: E402

#: The anomaly's fields a ``FeedbackItem`` carries (the backend joins the same ones).
_JOINED = {"scope", "start", "expected_cost", "actual_cost", "impact_usd", "root_causes"}


def _answer(tenant, a: AnomalyCreate, burn: date) -> FeedbackItem:
    """The simulated user's answer: accurate if ``a`` alone would find one of the incidents."""
    alone = score(tenant.incidents, [run.found_of(tenant.index, a)], burn)
    kind = "accurate" if alone.tp else "not_an_issue"
    return FeedbackItem(anomaly_id=a.id, kind=kind, **a.model_dump(include=_JOINED))


def walk(tenant, burn: date) -> list[Found]:
    """What a user answering every alert is shown."""
    answers: list[FeedbackItem] = []
    raised: list[Found] = []
    last: date | None = None
    while True:
        found = detect(tenant.frame, feedback=answers)
        later = [a for a in found if last is None or a.start > last]
        if not later:
            return raised
        last = min(a.start for a in later)
        for a in later:
            if a.start == last:
                raised.append(run.found_of(tenant.index, a))
                answers.append(_answer(tenant, a, burn))


def main() -> None:
    for line in sys.argv[1:]:
        tenants, burn = totals._tenants(line)
        incidents = [i for t in tenants for i in t.incidents]
        plain = score(incidents, run.costguard(tenants)[0], burn)
        found: list[Found] = []
        for t in tenants:
            found += walk(t, burn)
        fed = score(incidents, found, burn)
        for label, s in (("without feedback", plain), ("answering every alert", fed)):
            print(f"{line:9s} {label:22s} F1 {s.f1:.3f} ({s.fp} false + {s.fn} missed)")


if __name__ == "__main__":
    main()

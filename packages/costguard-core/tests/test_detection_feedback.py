"""Feedback used by detection: repeats of a pattern marked not an issue or planned are not
raised again, and a monitor's z bounds follow its answers."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

from costguard_core.detection import detect
from costguard_core.detection.feedback import NOT_AN_ISSUE_DAYS, z_multipliers
from costguard_core.detection.monitors import parse_monitors
from costguard_core.models import AnomalyCreate, FeedbackItem

_spec = importlib.util.spec_from_file_location(
    "detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec and _spec.loader
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)

RDS = {"ServiceName": "Amazon RDS"}
ONLY_SERVICES = parse_monitors({"monitors": [{"dimension": "ServiceName"}], "leaf_monitors": False})


def _item(a: AnomalyCreate, kind: str) -> FeedbackItem:
    fields = {"scope", "start", "expected_cost", "actual_cost", "impact_usd", "root_causes"}
    return FeedbackItem(anomaly_id=a.id, kind=kind, **a.model_dump(include=fields))


def _two_spikes(second: float) -> list[AnomalyCreate]:
    return detect(frames.make_frame(100, bumps={("db-main", 60): 40.0, ("db-main", 85): second}))


def test_planned_pattern_is_not_raised_again_in_the_same_shape() -> None:
    first, second = _two_spikes(40.0)
    assert first.scope == second.scope == RDS
    frame = frames.make_frame(100, bumps={("db-main", 60): 40.0, ("db-main", 85): 40.0})
    for kind in ("planned_activity", "not_an_issue"):
        again = detect(frame, feedback=[_item(first, kind)])
        assert [a.id for a in again] == [first.id]  # the marked one stays, its repeat does not
    assert [a.id for a in detect(frame, feedback=[_item(first, "accurate")])] == [
        first.id,
        second.id,
    ]


def test_a_not_an_issue_mute_lapses_after_six_weeks_a_planned_one_does_not() -> None:
    bumps = {("db-main", 60): 40.0, ("db-main", 110): 40.0}  # the same shape 50 days later
    frame = frames.make_frame(120, bumps=bumps)
    first, later = detect(frame)
    assert (later.start - first.start).days == 50 > NOT_AN_ISSUE_DAYS
    raised = detect(frame, feedback=[_item(first, "not_an_issue")])
    assert [a.id for a in raised] == [first.id, later.id]
    muted = detect(frame, feedback=[_item(first, "planned_activity")])
    assert [a.id for a in muted] == [first.id]
    # The same answer given on an anomaly 42 days before still mutes it.
    recent = _item(first, "not_an_issue").model_copy(
        update={"start": later.start - timedelta(days=NOT_AN_ISSUE_DAYS), "anomaly_id": "x"}
    )
    assert [a.id for a in detect(frame, feedback=[recent])] == [first.id]


def test_a_much_larger_repeat_is_raised() -> None:
    first, bigger = _two_spikes(200.0)  # relative excess ~3.4 vs ~0.6: more than twice
    frame = frames.make_frame(100, bumps={("db-main", 60): 40.0, ("db-main", 85): 200.0})
    found = detect(frame, feedback=[_item(first, "planned_activity")])
    assert [a.id for a in found] == [first.id, bigger.id]


def test_other_scope_or_leaves_are_not_suppressed() -> None:
    first, _ = _two_spikes(40.0)
    elsewhere = first.model_copy(update={"scope": {"ServiceName": "Amazon EC2"}})
    frame = frames.make_frame(100, bumps={("db-main", 60): 40.0, ("db-main", 85): 40.0})
    assert len(detect(frame, feedback=[_item(elsewhere, "not_an_issue")])) == 2
    other_leaf = first.root_causes[0].model_copy(update={"ResourceId": "db-other"})
    moved = first.model_copy(update={"root_causes": [other_leaf]})
    assert len(detect(frame, feedback=[_item(moved, "planned_activity")])) == 2


def test_not_an_issue_raises_the_monitor_bound_and_accurate_undoes_it() -> None:
    frame = frames.make_frame(100, bumps={("db-main", 85): 40.0})  # z ≈ 12 on one day
    (found,) = detect(frame, monitors=ONLY_SERVICES)
    # Answers on an unrelated earlier RDS alarm (other leaves): only the bound changes.
    leaf = found.root_causes[0].model_copy(update={"ResourceId": "db-old"})
    old = found.model_copy(update={"start": frames.START, "root_causes": [leaf]})
    noise = [_item(old, "not_an_issue")] * 4
    assert z_multipliers(noise) == {(("ServiceName", "Amazon RDS"),): 2.0}
    assert detect(frame, monitors=ONLY_SERVICES, feedback=noise) == []  # 7 × 2 = 14 > 12
    raised = detect(frame, monitors=ONLY_SERVICES, feedback=noise[:1])  # 8.75 < 12
    assert [a.id for a in raised] == [found.id]
    assert raised[0].confidence < found.confidence  # judged against the raised bound
    undone = noise + [_item(old, "accurate")] * 4
    assert detect(frame, monitors=ONLY_SERVICES, feedback=undone) == [found]


def test_multiplier_steps_and_bounds() -> None:
    item = FeedbackItem(
        anomaly_id="x",
        kind="not_an_issue",
        scope=RDS,
        start=frames.START,
        expected_cost=1,
        actual_cost=2,
        impact_usd=1,
    )
    key = (("ServiceName", "Amazon RDS"),)
    assert z_multipliers([item]) == {key: 1.25}
    assert z_multipliers([item] * 9) == {key: 2.0}
    accurate = item.model_copy(update={"kind": "accurate"})
    assert z_multipliers([accurate, accurate, item]) == {key: 1.0}
    assert z_multipliers([item.model_copy(update={"kind": "planned_activity"})]) == {key: 1.0}

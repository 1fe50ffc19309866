"""Monitors from YAML: validation naming the field, RegionId and tag monitors, per-monitor
thresholds and tiers, unwatched total spend."""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta
from pathlib import Path

import pytest
from costguard_core.detection import detect, series_count
from costguard_core.detection.monitors import load_monitors, parse_monitors
from costguard_core.errors import InputError

_spec = importlib.util.spec_from_file_location(
    "detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec and _spec.loader
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)

EXAMPLE = Path(__file__).parents[3] / "config" / "monitors.example.yaml"
TEAMS = {"i-web-1": "web", "i-web-2": "web", "db-main": "data"}


def _tagged(**kw):
    frame = frames.make_frame(100, **kw)
    frame["Tags"] = [
        json.dumps({"team": TEAMS[r]}) if r in TEAMS else "{}" for r in frame["ResourceId"]
    ]
    return frame


def _only(*specs: dict, leaf: bool = False):
    return parse_monitors({"monitors": list(specs), "leaf_monitors": leaf})


def test_example_file_loads() -> None:
    cfg = load_monitors(EXAMPLE)
    assert "Tags.team" in cfg.columns and cfg.spec(None) is not None


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {
                "monitors": [
                    {"dimension": "total"},
                    {"dimension": "ServiceName"},
                    {"dimension": "RegionId", "min_impact_usd": -1},
                ]
            },
            "monitors[2].min_impact_usd: Input should be greater than or equal to 0",
        ),
        ({"monitors": [{"dimension": "Colour"}]}, "monitors[0].dimension: Value error"),
        ({"monitors": [{"dimension": "total", "combine": "xor"}]}, "monitors[0].combine:"),
        ({"monitors": []}, "monitors: List should have at least 1 item"),
        ({"monitors": [{"dimension": "total"}] * 2}, "dimension listed more than once: total"),
        ({"monitors": [{"dimension": "total"}], "bogus": 1}, "bogus: Extra inputs"),
        (
            {"monitors": [{"dimension": "total"}], "leaf_percent_of": "service"},
            "leaf_percent_of: Input should be 'parent', 'resource' or 'lasting'",
        ),
    ],
)
def test_bad_documents_name_the_field(document: dict, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_monitors(document)


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("monitors: [ {dimension: total\n")
    with pytest.raises(InputError) as err:
        load_monitors(path)
    # One line, with where the parser noticed it (the dashboard's and the backend's wording).
    assert str(err.value) == (
        f"{path}: not valid YAML: line 2, column 1: expected ',' or '}}', but got '<stream end>'"
    )


def test_tag_monitor_reports_the_tag_scope() -> None:
    frame = _tagged(bumps={("i-web-1", 80): 400.0})
    found = detect(frame, monitors=_only({"dimension": "Tags.team"}))
    assert [(a.scope, a.root_causes[0].ResourceId) for a in found] == [
        ({"Tags.team": "web"}, "i-web-1")
    ]
    assert series_count(frame, _only({"dimension": "Tags.team"})) == 2


def test_region_monitor_and_unwatched_total() -> None:
    frame = frames.make_frame(100, bumps={("i-web-1", 80): 400.0})
    found = detect(frame, monitors=_only({"dimension": "RegionId"}))
    assert [a.scope for a in found] == [{"RegionId": "eu-west-1"}]
    # Only total watched, no leaves: the same incident is reported on total spend.
    assert [a.scope for a in detect(frame, monitors=_only({"dimension": "total"}))] == [{}]


def test_per_monitor_thresholds_and_tiers() -> None:
    frame = frames.make_frame(100, bumps={("db-main", 80): 200.0})
    (plain,) = detect(frame, monitors=_only({"dimension": "ServiceName"}))
    assert plain.severity == "medium"  # ~200 USD against the default 100 USD tier
    strict = _only({"dimension": "ServiceName", "min_impact_usd": 1000})
    assert detect(frame, monitors=strict) == []
    tiers = {"medium": 10, "high": 50, "critical": 100}
    (tiered,) = detect(
        frame, monitors=_only({"dimension": "ServiceName", "severity_tiers_usd": tiers})
    )
    assert tiered.severity == "critical"
    # The strict ServiceName monitor does not silence another monitor that sees it.
    both = _only({"dimension": "ServiceName", "min_impact_usd": 1000}, {"dimension": "total"})
    assert [a.scope for a in detect(frame, monitors=both)] == [{}]


def _fleet_with_a_rising_small_instance(
    days: int = 110, rise_from: int = 90, rise_days: int | None = None, rise_usd: float = 30.0
) -> object:
    """A prod EC2 fleet of 20 instances at ~100 USD/day and one at 40 USD/day whose spend
    rises by ``rise_usd`` USD/day (30: +75 % of its own, ~1.4 % of its service and account)
    from ``rise_from`` on, for ``rise_days`` days (None: to the end)."""
    import numpy as np

    rng = np.random.default_rng(11)
    extra = []
    for i in range(days):
        day = frames.START + timedelta(days=i)
        cycle = 0.6 if day.weekday() >= 5 else 1.0
        for n in range(20):
            cost = 100.0 * cycle * (1 + rng.normal(0, 0.04))
            extra.append(frames.row(day, "AWS", "prod", "Amazon EC2", f"i-fleet-{n}", cost))
        risen = i >= rise_from and (rise_days is None or i < rise_from + rise_days)
        cost = 40.0 * cycle * (1 + rng.normal(0, 0.04)) + (rise_usd if risen else 0.0)
        extra.append(frames.row(day, "AWS", "prod", "Amazon EC2", "i-small", cost))
    return frames.make_frame(days, extra_rows=extra)


def test_leaf_percent_of_resource_finds_a_rise_small_for_its_service() -> None:
    """``leaf_percent_of``: ``parent`` judges a leaf's percent test against its service and
    account (the rise is ~1.4 % of them: no anomaly); with ``resource`` the rise is +75 % of
    the resource's own spend and is reported, under the leaf's service and account, naming the
    instance. A ``since`` run from the start day gives the same anomaly as the backtest (the
    screen uses the same reference)."""
    frame = _fleet_with_a_rising_small_instance()
    specs = [{"dimension": "ServiceName"}, {"dimension": "SubAccountId"}]
    assert parse_monitors({"monitors": specs}).leaf_percent_of == "lasting"  # the default
    parent = parse_monitors({"monitors": specs, "leaf_percent_of": "parent"})
    assert detect(frame, monitors=parent) == []
    own = parse_monitors({"monitors": specs, "leaf_percent_of": "resource"})
    found = detect(frame, monitors=own)
    assert [((a.start - frames.START).days, a.scope) for a in found] == [
        (90, {"ServiceName": "Amazon EC2", "SubAccountId": "prod"})
    ]
    assert found[0].root_causes[0].ResourceId == "i-small"
    assert 20 <= found[0].expected_cost <= 45  # the resource's own expected spend (USD/day)
    since = detect(frame, monitors=own, since=found[0].start)
    assert [a.model_dump() for a in since] == [a.model_dump() for a in found]


def test_leaf_percent_of_lasting_judges_a_lasting_rise_against_the_resource() -> None:
    """``leaf_percent_of: lasting``: a resource's rise that lasts (three days running, a drift,
    a new resource) is judged against the resource's own expected spend, a one- or two-day
    rise against its service and account. The fleet instance's lasting +30 USD/day (+75 % of
    its own, ~1.4 % of its service) is reported as with ``resource``, by the third day; a
    one-day +60 USD (+150 %, ~2.8 %) is reported with ``resource`` only. ``since`` runs give
    the backtest's anomalies (the screen keeps what either reference could flag)."""
    specs = [{"dimension": "ServiceName"}, {"dimension": "SubAccountId"}]
    lasting = parse_monitors({"monitors": specs})  # the default since session 23
    own = parse_monitors({"monitors": specs, "leaf_percent_of": "resource"})
    parent = parse_monitors({"monitors": specs, "leaf_percent_of": "parent"})
    shift = _fleet_with_a_rising_small_instance()
    found = detect(shift, monitors=lasting)
    assert [a.scope for a in found] == [{"ServiceName": "Amazon EC2", "SubAccountId": "prod"}]
    assert 90 <= (found[0].start - frames.START).days <= 92
    assert found[0].root_causes[0].ResourceId == "i-small"
    since = detect(shift, monitors=lasting, since=found[0].start)
    assert [a.model_dump() for a in since] == [a.model_dump() for a in found]
    blip = _fleet_with_a_rising_small_instance(rise_days=1, rise_usd=60.0)
    assert [(a.start - frames.START).days for a in detect(blip, monitors=own)] == [90]
    assert detect(blip, monitors=lasting) == []
    assert detect(blip, monitors=parent) == []
    assert detect(blip, monitors=lasting, since=frames.START + timedelta(days=85)) == []


def test_values_set_one_service_s_thresholds_and_its_leaves_take_them() -> None:
    """``values`` under a ServiceName monitor: thresholds for that one service's monitor, which
    its leaf monitors take too (the way to judge, say, Kubernetes namespaces more finely than
    the rest). The fleet instance's +30 USD/day is ~1.4 % of its service and account: a 1 %
    percent threshold for Amazon EC2 reports it; the same for Amazon RDS (present, unchanged)
    does not (under ``leaf_percent_of: parent``: the default, ``lasting``, reports this lasting
    rise by its third day anyway). A ``since`` run gives the backtest's anomaly."""
    frame = _fleet_with_a_rising_small_instance()

    def document(values: dict) -> object:
        specs = [{"dimension": "ServiceName", "values": values}, {"dimension": "SubAccountId"}]
        return parse_monitors({"monitors": specs, "leaf_percent_of": "parent"})

    assert detect(frame, monitors=document({"Amazon RDS": {"min_impact_pct": 0.01}})) == []
    finer = document({"Amazon EC2": {"min_impact_pct": 0.01, "severity_tiers_usd": {
        "medium": 1, "high": 5, "critical": 10_000}}})  # fmt: skip
    found = detect(frame, monitors=finer)
    assert [((a.start - frames.START).days, a.scope) for a in found] == [
        (90, {"ServiceName": "Amazon EC2", "SubAccountId": "prod"})
    ]
    assert found[0].root_causes[0].ResourceId == "i-small"
    assert found[0].severity == "high"  # the service's own tiers, taken by its leaf
    since = detect(frame, monitors=finer, since=found[0].start)
    assert [a.model_dump() for a in since] == [a.model_dump() for a in found]


def test_values_are_refused_for_total_and_name_their_field() -> None:
    with pytest.raises(InputError, match=r"monitors\[0\]: Value error, values: total spend"):
        parse_monitors({"monitors": [{"dimension": "total", "values": {"x": {}}}]})
    bad = {"dimension": "ServiceName", "values": {"Amazon EC2": {"min_impact_pct": -1}}}
    with pytest.raises(InputError, match=r"monitors\[0\]\.values\.Amazon EC2\.min_impact_pct"):
        parse_monitors({"monitors": [bad]})
    with pytest.raises(InputError, match=r"monitors\[0\]\.values\.Amazon EC2\.z_threshold"):
        parse_monitors(
            {
                "monitors": [
                    {"dimension": "ServiceName", "values": {"Amazon EC2": {"z_threshold": 3}}}
                ]
            }
        )

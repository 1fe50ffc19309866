"""Round-3 mechanisms: new spend (a resource that appears with material spend) and the tenant
tail bound for single-day excursions."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from costguard_core.detection import DetectorConfig, churn, detect, detector, pooled
from costguard_core.detection.attribution import leaf_excess, lingering_excess
from costguard_core.detection.churn import replaced_spend
from costguard_core.detection.monitors import DEFAULT_MONITORS, MonitorsConfig
from costguard_core.detection.rows import evaluate_rows
from costguard_core.detection.series import prepare

_spec = importlib.util.spec_from_file_location(
    "detection_frames", Path(__file__).with_name("test_detection.py")
)
assert _spec and _spec.loader
frames = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(frames)


def _leaf_rows(resource: str, service: str, days: range, usd: float) -> list[dict]:
    return [
        frames.row(frames.START + timedelta(days=d), "AWS", "prod", service, resource, usd)
        for d in days
    ]


def _new_anomalies(found, resource: str):
    return [a for a in found if a.root_causes and a.root_causes[0].ResourceId == resource]


def test_a_new_resource_with_material_spend_is_flagged_on_its_second_day() -> None:
    rows = _leaf_rows("ml-new", "Amazon SageMaker", range(60, 90), 90)
    hits = _new_anomalies(detect(frames.make_frame(90, extra_rows=rows)), "ml-new")
    # A new service: its monitor has no history, yet its spend is new spend.
    assert [(a.start, a.scope) for a in hits] == [
        (frames.START + timedelta(days=61), {"ServiceName": "Amazon SageMaker"})
    ]
    assert hits[0].expected_cost == 0.0 and hits[0].confidence == 1.0
    # A new resource in an existing service: its leaf row is flagged on day 61, not day 60.
    prep = prepare(
        frames.make_frame(90, extra_rows=_leaf_rows("i-new", "Amazon EC2", range(60, 90), 90)),
        "EffectiveCost",
    )
    row = next(
        r
        for r, m in enumerate(prep.monitors)
        if m.column == "leaf" and prep.leaves.loc[int(m.value), "ResourceId"] == "i-new"
    )
    ev, _ = evaluate_rows(prep, [DetectorConfig()] * len(prep.monitors), None)
    assert not ev.flagged[row, 60] and ev.flagged[row, 61]


def test_one_day_charges_and_resources_present_from_the_start_are_not_new() -> None:
    once = _leaf_rows("i-once", "Amazon EC2", range(60, 61), 90)
    early = _leaf_rows("i-early", "Amazon EC2", range(3, 90), 90)
    found = detect(frames.make_frame(90, extra_rows=once + early))
    assert not _new_anomalies(found, "i-once") and not _new_anomalies(found, "i-early")


def _leaf_evaluation(frame, resource: str):
    """The leaf row of ``resource``: its evaluation with default settings, and the row."""
    prep = prepare(frame, "EffectiveCost")
    row = next(
        r
        for r, m in enumerate(prep.monitors)
        if m.column == "leaf" and prep.leaves.loc[int(m.value), "ResourceId"] == resource
    )
    ev, _ = evaluate_rows(prep, [DetectorConfig()] * len(prep.monitors), None)
    return ev, row


def test_a_resource_replacing_another_is_churn_not_new_spend() -> None:
    old = _leaf_rows("vol-old", "Amazon EBS", range(0, 60), 90)
    new = _leaf_rows("vol-new", "Amazon EBS", range(60, 90), 90)
    assert not _new_anomalies(detect(frames.make_frame(90, extra_rows=old + new)), "vol-new")
    # Blue/green: the old volume still bills on the new one's first day. That day's doubled
    # service is a real one-day rise; from the next day on the new volume is not new spend.
    overlap = _leaf_rows("vol-old", "Amazon EBS", range(0, 61), 90)
    ev, row = _leaf_evaluation(frames.make_frame(90, extra_rows=overlap + new), "vol-new")
    assert not ev.flagged[row, 61:].any()
    np.testing.assert_allclose(ev.expected[row, 61:81], 90.0)
    # Control: the same new volume with nothing stopping beside it is new spend.
    ev, row = _leaf_evaluation(frames.make_frame(90, extra_rows=new), "vol-new")
    assert ev.flagged[row, 61] and ev.expected[row, 61] == 0.0
    assert _new_anomalies(detect(frames.make_frame(90, extra_rows=new)), "vol-new")


def test_a_replacement_far_costlier_than_what_it_replaced_is_new_spend_net_of_it() -> None:
    old = _leaf_rows("i-small", "Amazon EC2", range(0, 60), 60)
    new = _leaf_rows("i-large", "Amazon EC2", range(60, 90), 300)
    frame = frames.make_frame(90, extra_rows=old + new)
    # The leaf's expected spend is what the stopped instance cost, its excess the rest.
    ev, row = _leaf_evaluation(frame, "i-large")
    assert ev.flagged[row, 61]
    assert ev.expected[row, 61] == 60.0 and ev.excess[row, 61] == 240.0
    hits = _new_anomalies(detect(frame), "i-large")
    assert len(hits) == 1 and hits[0].start <= frames.START + timedelta(days=61)


def _every(resource: str, service: str, usd: float, weekdays: tuple[int, ...]) -> list[dict]:
    """A batch job: ``usd`` on the days whose index modulo 7 is in ``weekdays``."""
    rows = _leaf_rows(resource, service, range(0, 90), usd)
    return [r for r in rows if (r["ChargePeriodStart"] - frames.START).days % 7 in weekdays]


def test_churn_evidence_is_a_steady_sibling_that_stopped_and_stays_stopped() -> None:
    new = _leaf_rows("vol-new", "Amazon EBS", range(60, 90), 200)
    # An intermittent batch job in the same service, idle around the start, is no evidence.
    batch = _every("job", "Amazon EBS", 500, (0, 2, 3, 5))
    ev, row = _leaf_evaluation(frames.make_frame(90, extra_rows=batch + new), "vol-new")
    assert ev.flagged[row, 61]
    # A sibling that stopped two weeks earlier explains nothing.
    early = _leaf_rows("vol-old", "Amazon EBS", range(0, 46), 200)
    ev, row = _leaf_evaluation(frames.make_frame(90, extra_rows=early + new), "vol-new")
    assert ev.flagged[row, 61]
    # The old volume coming back on day 64 means it was not replaced: new spend from then.
    back = _leaf_rows("vol-old", "Amazon EBS", [*range(0, 60), *range(64, 90)], 200)
    ev, row = _leaf_evaluation(frames.make_frame(90, extra_rows=back + new), "vol-new")
    assert not ev.flagged[row, 60:64].any() and ev.flagged[row, 65]


def test_replaced_spend_reads_only_the_past_and_only_siblings() -> None:
    y = np.full((4, 40), np.nan)
    y[0, :25] = 50.0  # stops after day 24
    y[1, 25:] = 70.0  # starts on day 25: replaces row 0 (same group)
    y[2, 26:] = 20.0  # starts on day 26, another group: nothing replaced
    y[3, :] = 30.0  # steady sibling of row 2, never stops
    group = np.array([0, 0, 1, 1])
    out = replaced_spend(y, group, young_days=21, min_first=21)
    assert (out[1, 25:46] == 50.0).all() and (out[1, :25] == 0).all()
    assert not out[[0, 2, 3]].any()
    for d in range(20, 40):
        np.testing.assert_array_equal(replaced_spend(y[:, : d + 1], group, 21, 21), out[:, : d + 1])


def _replaced_by_definition(y: np.ndarray, group: np.ndarray, young: int, min_first: int):
    """``churn.replaced_spend`` written out day by day from its docstring."""
    n, t = y.shape
    out = np.zeros(y.shape)
    spent = np.nan_to_num(y) > 0
    present = ~np.isnan(y)
    first = [int(np.argmax(present[i])) if present[i].any() else t for i in range(n)]
    for r in range(n):
        f = first[r]
        if f >= t or f < min_first or group[r] < 0:
            continue
        for d in range(f, min(f + young, t)):
            for s in range(n):
                days = np.flatnonzero(spent[s, : d + 1])
                if s == r or group[s] != group[r] or not len(days):
                    continue
                stop = days[-1]
                if not (f - churn.STOP_SLACK_DAYS <= stop <= f and stop < d):
                    continue
                a = max(stop - churn.STEADY_WINDOW + 1, first[s])
                if stop - a + 1 >= churn.STEADY_MIN_DAYS and spent[s, a : stop + 1].all():
                    out[r, d] += np.median(y[s, a : stop + 1])
    return out


def test_replaced_spend_matches_its_definition_on_random_on_off_series() -> None:
    rng = np.random.default_rng(0)
    for _ in range(60):
        n, t = int(rng.integers(2, 8)), int(rng.integers(20, 60))
        y = rng.uniform(1, 100, (n, t)).round()
        for i in range(n):
            a, b = sorted(rng.integers(0, t, 2))
            y[i, :a] = np.nan
            if rng.random() < 0.5:
                y[i, b:] = np.nan
            if rng.random() < 0.3:
                y[i, rng.random(t) < 0.3] = 0
            if rng.random() < 0.3:
                y[i, rng.random(t) < 0.2] = np.nan
        group = rng.integers(-1, 3, n)
        min_first, young = int(rng.integers(3, 15)), int(rng.integers(3, 15))
        np.testing.assert_allclose(
            replaced_spend(y, group, young, min_first),
            _replaced_by_definition(y, group, young, min_first),
        )


@pytest.mark.parametrize("seed", [1, 3, 6])
def test_a_new_resource_beside_a_batch_job_is_flagged_on_its_second_day(seed: int) -> None:
    """Session 8: a service holding a batch job that runs on random days has an expected spend
    (a weekday median) that swings with the job, so the old guard (the service's excess must
    hold half the new leaf's spend) held this new resource back 1-3 days on these seeds."""
    runs = set(np.flatnonzero(np.random.default_rng(seed).random(90) < 0.5))
    batch = [
        r
        for r in _leaf_rows("etl", "BigQuery", range(0, 90), 800)
        if (r["ChargePeriodStart"] - frames.START).days in runs
    ]
    base = _leaf_rows("bq-base", "BigQuery", range(0, 90), 100)
    new = _leaf_rows("bq-new", "BigQuery", range(63, 90), 300)
    hits = _new_anomalies(detect(frames.make_frame(90, extra_rows=batch + base + new)), "bq-new")
    assert [a.start for a in hits] == [frames.START + timedelta(days=64)]


def test_screen_and_since_keep_new_spend() -> None:
    frame = frames.make_frame(90, extra_rows=_leaf_rows("i-new", "Amazon EC2", range(70, 90), 90))
    prep = prepare(frame, "EffectiveCost")
    configs = [DetectorConfig()] * len(prep.monitors)
    plain, _ = evaluate_rows(prep, configs, None)
    assert plain.flagged[:, 71].any()
    for from_day in (0, 60, 71, 80):
        screened, _ = evaluate_rows(prep, configs, from_day)
        np.testing.assert_array_equal(screened.flagged[:, from_day:], plain.flagged[:, from_day:])
    full = detect(frame)
    for a in full:
        part = detect(frame, since=a.start)
        assert [x.model_dump() for x in part] == [
            x.model_dump() for x in full if x.start >= a.start
        ]


def _kept_resources(prep, keep: np.ndarray) -> set[str]:
    """ResourceIds of the leaf monitor rows the screen kept."""
    return {
        str(prep.leaves.loc[int(str(m.value)), "ResourceId"])
        for m, k in zip(prep.monitors, keep, strict=True)
        if k and m.column == "leaf"
    }


def test_one_day_resources_are_screened_out_and_change_nothing() -> None:
    """A CUR file names thousands of resources that cost something on one day only (per-request
    ids, short spot instances): none can be new spend (that needs two days), so the screen
    drops them (session 11), and neither they nor the screen change a decision."""
    new = _leaf_rows("i-new", "Amazon EC2", range(70, 90), 90)
    ephemeral = [
        r
        for d in range(30, 90)
        for k in range(5)
        for r in _leaf_rows(f"req-{d}-{k}", "AWS Lambda", range(d, d + 1), 40 + k)
    ]
    frame = frames.make_frame(90, extra_rows=new + ephemeral)
    prep = prepare(frame, "EffectiveCost")
    configs = [DetectorConfig()] * len(prep.monitors)
    from costguard_core.detection import screen

    keep, _ = screen.candidates(
        prep.matrix, configs[0], prep.days, prep.leaf_parent, 0, prep.leaf_account
    )
    assert "i-new" in _kept_resources(prep, keep)
    assert not any(r.startswith("req-") for r in _kept_resources(prep, keep))
    # Under combine "or" any positive two-day run may be new spend; one-day rows still may not.
    keep_or, _ = screen.candidates(
        prep.matrix,
        DetectorConfig(combine="or"),
        prep.days,
        prep.leaf_parent,
        0,
        prep.leaf_account,
    )
    assert not any(r.startswith("req-") for r in _kept_resources(prep, keep_or))
    plain, _ = evaluate_rows(prep, configs, None)
    for from_day in (0, 60, 71):
        screened, _ = evaluate_rows(prep, configs, from_day)
        np.testing.assert_array_equal(screened.flagged[:, from_day:], plain.flagged[:, from_day:])
    assert [a.start for a in _new_anomalies(detect(frame), "i-new")] == [
        frames.START + timedelta(days=71)
    ]


def test_a_new_resource_under_the_usd_threshold_is_screened_out_only_under_and() -> None:
    """Two days in a row of 5 USD can never pass min_impact_usd 10 under "and"; under "or" the
    percent test alone may pass, so the row is judged."""
    frame = frames.make_frame(90, extra_rows=_leaf_rows("i-small", "Amazon EC2", range(70, 90), 5))
    prep = prepare(frame, "EffectiveCost")
    from costguard_core.detection import screen

    def kept(config: DetectorConfig) -> bool:
        keep, _ = screen.candidates(
            prep.matrix, config, prep.days, prep.leaf_parent, 60, prep.leaf_account
        )
        return "i-small" in _kept_resources(prep, keep)

    assert not kept(DetectorConfig())
    assert kept(DetectorConfig(combine="or"))
    assert kept(DetectorConfig(min_impact_usd=4.0))


def test_series_without_a_lasting_run_do_not_change_the_pooled_factor() -> None:
    """The pool's cells need w + 1 positive days in a row; rows that cannot have one are left
    out before the work, which must not change the factor."""
    rng = np.random.default_rng(3)
    y = 100 * (1 + 0.05 * rng.standard_t(3, size=(40, 200)))
    short = np.full((500, 200), np.nan)
    for k in range(500):
        d = int(rng.integers(30, 199))
        short[k, d:] = 0.0
        short[k, d] = 50.0
    np.testing.assert_array_equal(_pooled(np.vstack([y, short])), _pooled(y))


def _pooled(y: np.ndarray) -> np.ndarray:
    from costguard_core.detection.pooled import pooled_factor
    from costguard_core.detection.screen import plain_expected

    config = DetectorConfig()
    return pooled_factor(y, plain_expected(y, config, None), config)


def test_pooled_factor_grows_with_heavy_tails_reads_only_the_past_and_a_trailing_window() -> None:
    rng = np.random.default_rng(11)
    normal = 100 * (1 + 0.05 * rng.normal(size=(30, 200)))
    heavy = 100 * (1 + 0.05 * rng.standard_t(2.5, size=(30, 200)))
    f_normal, f_heavy = _pooled(normal), _pooled(heavy)
    # Normal noise gives ≈ 1 (two-sided since round 4: the 0.125 σ grid and each series' scale
    # being estimated from 28 days put it at ~1.1; ~1.16 with session 6's extrapolation to
    # the 0.1 % point, ~1.2 with session 12's to 0.02 %), t(2.5) noise well above: ~1.7 from
    # the 1 % points alone, ~3.3 extrapolated to 0.1 %, ~4.9 to 0.02 % (here 1.198 and 4.94).
    assert f_normal[150] < 1.25 and f_heavy[150] > 2.5
    with pytest.MonkeyPatch.context() as mp:  # without extrapolation: the 1 % points' ratio
        mp.setattr(pooled, "POOLED_EXTRAPOLATE", 1.0)
        plain_normal, plain_heavy = _pooled(normal)[150], _pooled(heavy)[150]
        plain_small = _pooled(heavy)[33:45]
    # A pool under 500 cells is not extrapolated: its top cells are mostly its own incidents.
    np.testing.assert_array_equal(f_heavy[33:45], plain_small)
    assert 1.0 <= plain_normal <= f_normal[150] and 1.3 < plain_heavy < 2.0
    assert f_heavy[150] / f_normal[150] > 1.5 * plain_heavy / plain_normal
    assert (f_heavy[:30] == 1.0).all()  # under 100 cells: the plain bound
    # 100-500 cells (round 5; before: 1): the point 5 cells exceed against the normal's there,
    # so a small pool of heavy-tailed noise already raises the bound and a normal one barely.
    assert (f_heavy[33:45] > 1.15).all() and (f_normal[33:45] < 1.15).all()
    np.testing.assert_array_equal(_pooled(heavy[:, :120]), f_heavy[:120])
    # A trailing window of the pool (112 days since session 9) + the scale's 28 + the weekday
    # median's 28 + 7 days, and 5 more, gives the same factor on its last 5 days.
    np.testing.assert_allclose(_pooled(heavy[:, 20:])[-5:], f_heavy[-5:])
    # Both tails are pooled (round 4): a few incidents (0.2 % of the 1,680 cells) move it
    # little (≤ 5 % from the 1 % point alone; extrapolated ~11 % with the two-point index,
    # ~22 % with Hill's since session 14, which weighs every cell beyond the 5 % point and so
    # these three at ~40 σ, counted as 30), while a frame-wide jump (every series on two
    # days, 3.6 %) raises it for the window.
    spiked = normal.copy()
    spiked[0, 120] *= 3
    spiked[5, 130] *= 3
    spiked[9, 140] *= 3
    assert _pooled(spiked)[150] <= f_normal[150] * 1.25
    everywhere = normal.copy()
    everywhere[:, [120, 130]] *= 3
    assert _pooled(everywhere)[150] > 1.5 * f_normal[150]


def test_hill_index_of_the_pooled_histogram_matches_the_draws() -> None:
    """The pooled tail index (session 14) is Hill's estimate read from the pool's histogram on
    the 0.125 σ grid: over the cells beyond the point 5 % of them exceed, the mean of
    ln(u / u0). Trapezoids across each grid step keep it within 0.01 of the estimate from the
    draws themselves (the steps' left counts alone read normal draws' 0.168 as 0.19); the
    normal's is the reference ``HILL_NORMAL``."""
    grid = pooled._GRID
    rng = np.random.default_rng(8)
    draws = {
        "normal": np.abs(rng.normal(size=200_000)),
        "t6": np.abs(rng.standard_t(6, size=200_000)),
        "t3": np.abs(rng.standard_t(3, size=200_000)),
    }
    read = {}
    for name, u in draws.items():
        u = u / (1.2533 * u.mean())  # σ units, as the pool standardizes residuals
        counts = np.bincount(np.searchsorted(grid, u, side="left"), minlength=len(grid) + 1)
        over = counts[::-1].cumsum()[::-1][1:].astype(float)[:, None]  # cells beyond grid[k]
        read[name] = pooled._hill(over, over / len(u), np.array([0.05]), np.array([True]))[0]
        u0 = np.quantile(u, 0.95)
        exact = np.mean(np.log(u[u > u0] / u0))
        assert abs(read[name] - exact) < 0.01, name
    assert abs(read["normal"] - pooled.HILL_NORMAL) < 0.01
    assert read["normal"] < read["t6"] - 0.05 and read["t6"] < read["t3"] - 0.05


def test_the_pool_spans_pool_window_days_and_steadies_the_factor() -> None:
    """The pooled tail factor reads ``pool_window_days`` (112, session 9) of cells: a frame-wide
    jump raises it until the jump leaves the pool, and on heavy-tailed noise the factor moves
    less from day to day than over the 56-day pool it used before (fewer cells: a few large
    draws entering or leaving it swing the measured tail)."""
    from costguard_core.detection.pooled import pooled_factor
    from costguard_core.detection.screen import plain_expected

    rng = np.random.default_rng(5)
    normal = 100 * (1 + 0.05 * rng.normal(size=(30, 400)))
    normal[:, [120, 130]] *= 3
    config = DetectorConfig()
    assert config.pool_window_days == 112
    jumped = _pooled(normal)
    assert (jumped[131:242] > 2.0).all() and (jumped[243:] < 1.5).all()
    short = config.model_copy(update={"pool_window_days": 56})
    f56 = pooled_factor(normal, plain_expected(normal, short, None), short)
    # 56 days: forgot it sooner. Back on normal noise the factor is ~1.2, up to ~1.6 on this
    # 1,680-cell pool: its 5 %/1 % points are noisy, and the 0.02 % extrapolation (session
    # 12; 0.1 % before, up to ~1.4) amplifies that noise.
    assert (f56[131:186] > 2.0).all() and (f56[187:] < 1.7).all()

    heavy = 100 * (1 + 0.05 * rng.standard_t(3.0, size=(30, 400)))
    exp = plain_expected(heavy, config, None)
    days = slice(200, 400)
    f112 = pooled_factor(heavy, exp, config)[days]
    f56 = pooled_factor(heavy, exp, short)[days]
    assert np.std(np.log(f112)) < 0.8 * np.std(np.log(f56))  # 0.11 against 0.16


def test_an_earlier_incident_lingers_until_the_monitor_median_has_learnt_it() -> None:
    """``lingering_excess``: a new resource's whole spend, and a shifted resource's shift, count
    in their first week although each leaf's own baseline learns them in days; about half in
    the second week and nothing from the fourth, as a monitor's 4-week weekday median above
    them learns them."""
    shift = {("db-main", i): 90.0 for i in range(70, 105)}
    prep = prepare(
        frames.make_frame(
            105, bumps=shift, extra_rows=_leaf_rows("i-new", "Amazon EC2", range(70, 105), 105)
        ),
        "EffectiveCost",
    )
    key = prep.leaves.reset_index().set_index("ResourceId")["index"]
    new, db = int(key["i-new"]), int(key["db-main"])
    config = DetectorConfig()

    def cost(leaf: int, day: int) -> float:
        return float(prep.leaf_block(np.array([leaf]), day, day)[0, 0])

    day = 75  # a Saturday, five days in
    assert lingering_excess(prep, frozenset({new}), 70, day, config) == cost(new, day)
    assert 80.0 < lingering_excess(prep, frozenset({db}), 70, day, config) < 100.0
    # Its own (young: trailing-week) baseline has learnt the new resource within days.
    ids, own = leaf_excess(prep, prep.monitors[0], day, day, config)
    assert abs(float(own[list(ids).index(new), 0])) < 0.2 * cost(new, day)
    # Second week: two of the four same weekdays hold it, so half.
    half = lingering_excess(prep, frozenset({new}), 70, 84, config)
    assert 0.3 * cost(new, 84) < half < 0.7 * cost(new, 84)
    # From the fourth week the median has learnt both.
    assert lingering_excess(prep, frozenset({new, db}), 70, 98, config) < 15.0
    # Nothing lingers before the incident or without leaves.
    assert lingering_excess(prep, frozenset({new}), 70, 69, config) == 0.0
    assert lingering_excess(prep, frozenset(), 70, day, config) == 0.0


def test_a_drift_is_not_raised_again_while_the_monitors_learn_it(monkeypatch) -> None:
    """A resource drifting up by 120 USD/day over two weeks is one incident. Its service raised
    it on day 76; eight days later total spend's weekday median had learnt half of it, and its
    drift rule raised it again, beyond the 7-day cooldown. Runs that started in the 4 weeks
    before (the weekday median's memory, ``gaps.incident_memory_days``) now count as the
    incident lingering (session 4). Since session 9 (single-day bound 6.5) it is raised a day
    earlier, on day 75: by its service in its account until session 13, by its service since
    (the pool no longer counts a drift's consecutive cells, ``pooled.POOLED_RUN_CUT``, so the
    service's own single-day bound is lower; the same day, impact and root cause). Since session
    19 the counterfactual re-raise comes on day 86, not 84: total spend's days persist while it
    drifts, so its drift bound is widened by their autocorrelation (``lag1_autocorrelation``).
    Since session 23 (``leaf_percent_of: lasting``, the default) the resource's own monitor
    raises it on day 74 and nothing re-raises it even with the old memory; the memory is
    checked where a service raises it (``parent``), as before."""
    bumps = {("i-web-1", d): 1.5 * 80 * min(1.0, (d - 69) / 14) for d in range(70, 120)}
    frame = frames.make_frame(120, bumps=bumps)
    (lasting,) = detect(frame)
    assert (lasting.start, lasting.root_causes[0].ResourceId) == (
        frames.START + timedelta(days=74),
        "i-web-1",
    )
    assert lasting.scope == {"ServiceName": "Amazon EC2", "SubAccountId": "prod"}
    parent = MonitorsConfig(monitors=DEFAULT_MONITORS.monitors, leaf_percent_of="parent")
    found = [
        (a.start, a.scope, a.root_causes[0].ResourceId) for a in detect(frame, monitors=parent)
    ]
    service = {"ServiceName": "Amazon EC2"}
    assert found == [(frames.START + timedelta(days=75), service, "i-web-1")]
    # With the old memory (the cooldown alone) the same drift came back on total spend.
    monkeypatch.setattr(detector, "incident_memory_days", lambda config: config.cooldown_days)
    again = [
        (a.start, a.scope, a.root_causes[0].ResourceId) for a in detect(frame, monitors=parent)
    ]
    assert again == found + [(frames.START + timedelta(days=86), {}, "i-web-1")]


def test_a_fresh_spike_of_the_same_leaf_is_not_the_old_incident_lingering() -> None:
    """``lingering_excess`` counts a leaf's spend at most at its median since the earlier
    incident started: db-main shifted by 90 on day 70; on day 84 it also spikes by 500, and
    only the half of the shift the weekday median has not learnt lingers, not the spike."""
    bumps = {("db-main", i): 90.0 for i in range(70, 105)}
    bumps[("db-main", 84)] = 590.0
    prep = prepare(frames.make_frame(105, bumps=bumps), "EffectiveCost")
    db = int(prep.leaves.reset_index().set_index("ResourceId")["index"]["db-main"])
    lingering = lingering_excess(prep, frozenset({db}), 70, 84, DetectorConfig())
    assert 30.0 < lingering < 60.0  # half the 90 USD shift; the uncapped reading was ~545


def test_a_provider_export_missing_a_day_raises_no_anomaly() -> None:
    """A provider's whole day missing from the export, its charges arriving with the next
    day's (every service, account and the provider doubled for a day): no anomaly; the same
    day raised by an incident on one resource still is (session 20)."""
    frame = frames.make_frame(90)
    day = pd.to_datetime(frame["ChargePeriodStart"])
    aws = frame["ProviderName"] == "AWS"
    late = aws & (day == pd.Timestamp(frames.START + timedelta(days=60)))
    frame.loc[late, "ChargePeriodStart"] = frames.START + timedelta(days=61)
    found = detect(frame, since=frames.START + timedelta(days=55))
    assert found == []
    frame.loc[late & (frame["ResourceId"] == "i-web-2"), "EffectiveCost"] += Decimal("900")
    found = detect(frame, since=frames.START + timedelta(days=55))
    assert [(a.start, a.root_causes[0].ResourceId) for a in found] == [
        (frames.START + timedelta(days=61), "i-web-2")
    ]

"""The independent detection-benchmark generator (bench/detection/independent.py): its own
properties, checked on a tiny config (no detector involved)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "detection"
sys.path.insert(0, str(BENCH))

import independent as ind  # noqa: E402

KEY = ["SubAccountId", "ServiceName", "ResourceId"]


def _tiny(seed: int = 3) -> ind.IndConfig:
    return ind.IndConfig(
        "tiny",
        seed,
        tenants=8,
        days=180,
        start=date(2024, 11, 4),
        leaves=(4, 10),
        accounts=(1, 3),
        p_promo_credit=1.0,
        refunds=(1, 2),
        p_support_fee=1.0,
        incidents=(2, 3),
    )


@pytest.fixture(scope="module")
def pair():
    cfg = _tiny()
    return cfg, ind.generate(cfg), ind.generate(cfg, incidents=False)


def _usage(frame: pd.DataFrame, inc, days: list[str]) -> np.ndarray:
    """The incident leaf's daily usage cost over ``days`` (0 where there is no row)."""
    m = (
        (frame["SubAccountId"] == inc.SubAccountId)
        & (frame["ServiceName"] == inc.ServiceName)
        & (frame["ResourceId"] == inc.ResourceId)
        & (frame["ChargeCategory"] == "Usage")
    )
    s = frame[m].groupby("ChargePeriodStart")["EffectiveCost"].sum()
    return s.reindex(days, fill_value=0.0).to_numpy()


def test_deterministic_per_seed(pair):
    cfg, tenants, _ = pair
    again = ind.generate(cfg)
    other = ind.generate(_tiny(seed=4))
    for a, b in zip(tenants, again, strict=True):
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert a.incidents == b.incidents
    assert not all(
        a.frame.shape == c.frame.shape and a.frame.equals(c.frame)
        for a, c in zip(tenants, other, strict=True)
    )


def test_rows_have_the_focus_shape(pair):
    cfg, tenants, _ = pair
    owners: dict[str, int] = {}
    for t in tenants:
        f = t.frame
        assert list(f.columns) == ind.COLUMNS
        assert f["ChargePeriodStart"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
        assert f["ChargePeriodStart"].min() == cfg.start.isoformat()
        assert set(f["ChargeCategory"]) <= {"Usage", "Purchase", "Credit"}
        assert (f["BillingCurrency"] == "USD").all()
        assert f["EffectiveCost"].dtype == float and np.isfinite(f["EffectiveCost"]).all()
        # one row per leaf per day and category
        assert not f.duplicated(["ChargePeriodStart", *KEY, "ChargeCategory"]).any()
        for sub in f["SubAccountId"].unique():  # sub-accounts belong to one tenant
            assert owners.setdefault(sub, t.index) == t.index
        # purchases are month-start charges
        days = pd.to_datetime(f.loc[f["ChargeCategory"] == "Purchase", "ChargePeriodStart"])
        assert len(days) and (days.dt.day == 1).all()


def test_credits_are_negative_rows_and_nothing_else_is(pair):
    _, tenants, _ = pair
    n_credit = 0
    for t in tenants:
        f = t.frame
        credit = f["ChargeCategory"] == "Credit"
        assert (f.loc[credit, "EffectiveCost"] < 0).all()
        assert (f.loc[~credit, "EffectiveCost"] > 0).all()
        n_credit += int(credit.sum())
    assert n_credit > 0


def test_incidents_start_after_the_history_and_do_not_overlap(pair):
    cfg, tenants, _ = pair
    kinds = set()
    last = cfg.start + timedelta(days=cfg.days - 1)
    for t in tenants:
        incs = sorted(t.incidents, key=lambda i: i.start)
        assert len({(i.SubAccountId, i.ServiceName, i.ResourceId) for i in incs}) == len(incs)
        for i in incs:
            kinds.add(i.kind)
            assert i.kind in ind.KINDS and i.tenant == t.index
            assert i.start >= cfg.start + timedelta(days=cfg.warmup_days)
            assert i.start <= i.end <= last
            assert i.daily_excess_usd >= cfg.min_usd[0]
            if i.kind == "weekend_loop":
                assert i.start.weekday() == 5
            if i.kind in ("shift", "drift", "new"):
                assert i.end == last
        for a, b in zip(incs, incs[1:], strict=False):
            if a.kind in ("spike", "weekend_loop"):
                assert b.start > a.end
            assert b.start >= a.start + timedelta(days=cfg.gap_days[0])
    assert kinds == set(ind.KINDS)  # the tiny config exercises every kind


def test_labelled_leaf_rises_by_the_excess_against_the_same_bill_without_it(pair):
    cfg, tenants, clean = pair
    days = [(cfg.start + timedelta(days=d)).isoformat() for d in range(cfg.days)]
    for t, c in zip(tenants, clean, strict=True):
        assert c.incidents == []
        hit = set()
        for inc, stored in zip(t.incidents, t.excess, strict=True):
            hit.add((inc.SubAccountId, inc.ServiceName, inc.ResourceId))
            got, base = _usage(t.frame, inc, days), _usage(c.frame, inc, days)
            diff = got - base
            s = days.index(inc.start.isoformat())
            e = days.index(inc.end.isoformat())
            x = inc.daily_excess_usd
            np.testing.assert_allclose(diff, stored, atol=1e-5)
            assert np.all(diff[:s] == pytest.approx(0, abs=1e-5))
            assert np.all(diff[e + 1 :] == pytest.approx(0, abs=1e-5))
            assert diff[s] > 0
            band = (0.75 * x, 1.3 * x)
            if inc.kind == "new":
                assert not base.any()  # the resource does not exist without the incident
            if inc.kind in ("spike", "shift", "new"):
                assert np.all((diff[s : e + 1] >= band[0]) & (diff[s : e + 1] <= band[1]))
            elif inc.kind == "weekend_loop":
                assert np.all((diff[s : s + 2] >= band[0]) & (diff[s : s + 2] <= band[1]))
                assert e - s in (1, 2)
                if e - s == 2:  # a part of Monday
                    assert 0.2 * x <= diff[e] <= 0.9 * x
            else:  # drift: a ramp of 1-3 weeks to the full excess, which then holds
                assert diff[s] < 0.3 * x
                full = np.flatnonzero(diff >= band[0])
                assert len(full) and 7 <= full[0] - s <= 22
                assert np.all((diff[s + 22 :] >= band[0]) & (diff[s + 22 :] <= band[1]))
            if inc.kind != "new":  # material against the leaf's 8 weeks before
                before = base[max(0, s - 56) : s]
                ref = np.median(before[before > 0])
                assert x >= cfg.multiple[inc.kind][0] * ref * 0.999
        # every other leaf's usage is the same with and without the incidents
        u = t.frame[t.frame["ChargeCategory"] == "Usage"].fillna({"ResourceId": "-"})
        v = c.frame[c.frame["ChargeCategory"] == "Usage"].fillna({"ResourceId": "-"})
        keep_u = ~u.set_index(KEY).index.isin(list(hit))
        keep_v = ~v.set_index(KEY).index.isin(list(hit))
        assert keep_u.sum() > 0
        pd.testing.assert_frame_equal(
            u[keep_u].reset_index(drop=True), v[keep_v].reset_index(drop=True)
        )

"""The third detection-benchmark generator (bench/detection/independent2.py): its own properties,
checked on tiny configs (no detector involved)."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "detection"
sys.path.insert(0, str(BENCH))

import independent2 as g  # noqa: E402

KEY = ["ChargePeriodStart", "SubAccountId", "ServiceName", "ResourceId", "ChargeCategory"]


def _tiny(seed: int = 5, lag: int = 0) -> g.Config:
    return g.Config("tiny", seed, tenants=6, days=150, start=date(2024, 10, 7), clusters=(1, 2),
                    namespaces=(3, 5), plain=(5, 9), tail=(2, 6), accounts=(2, 4),
                    incidents=(3, 4), price_steps=True, lag_every=lag)  # fmt: skip


@pytest.fixture(scope="module")
def pair():
    cfg = _tiny()
    return cfg, g.generate(cfg), g.generate(cfg, incidents=False)


def _diff(a: pd.DataFrame, b: pd.DataFrame) -> pd.Series:
    fa = a.fillna({"ResourceId": "-"}).groupby(KEY).EffectiveCost.sum()
    fb = b.fillna({"ResourceId": "-"}).groupby(KEY).EffectiveCost.sum()
    return fa.sub(fb, fill_value=0.0)


def test_columns_and_determinism(pair):
    cfg, with_inc, _ = pair
    again = g.generate(cfg)
    other = g.generate(replace(cfg, seed=cfg.seed + 1))
    for t, u in zip(with_inc, again, strict=True):
        assert list(t.frame.columns) == g.COLUMNS
        pd.testing.assert_frame_equal(t.frame, u.frame)
        assert t.incidents == u.incidents
    assert not with_inc[0].frame.equals(other[0].frame)
    assert sum(len(t.incidents) for t in with_inc) >= cfg.tenants * 2


def test_signs_and_categories(pair):
    _, tenants, _ = pair
    f = pd.concat([t.frame for t in tenants])
    assert set(f.ChargeCategory) <= {"Usage", "Purchase", "Credit"}
    assert (f.loc[f.ChargeCategory == "Credit", "EffectiveCost"] < 0).all()
    assert (f.loc[f.ChargeCategory != "Credit", "EffectiveCost"] > 0).all()
    assert (f.ChargeCategory == "Credit").any() and (f.ChargeCategory == "Purchase").any()
    assert (f.BillingCurrency == "USD").all()


def test_labels_match_the_excess(pair):
    cfg, with_inc, without = pair
    for t, u in zip(with_inc, without, strict=True):
        diff = _diff(t.frame, u.frame)
        explained = pd.Series(0.0, index=diff.index)
        for inc in t.incidents:
            assert inc.kind in g.KINDS
            assert inc.start >= cfg.start + timedelta(days=cfg.warmup_days)
            assert inc.daily_excess_usd >= cfg.min_usd
            if inc.kind == "weekend_loop":
                assert inc.start.weekday() == 5
            ix = diff.index
            leaf = (
                (ix.get_level_values(1) == inc.SubAccountId)
                & (ix.get_level_values(2) == inc.ServiceName)
                & (ix.get_level_values(3) == inc.ResourceId)
                & (ix.get_level_values(4) == "Usage")
            )
            d = pd.Series(diff[leaf].to_numpy(), index=ix[leaf].get_level_values(0))
            days = pd.Index([str(inc.start + timedelta(days=k))
                             for k in range((inc.end - inc.start).days + 1)])  # fmt: skip
            on = d.reindex(days, fill_value=0.0)
            assert (on > 0).all(), inc
            assert 0.8 <= on.max() / inc.daily_excess_usd <= 1.2, inc
            outside = d.drop(days, errors="ignore")
            assert len(outside) == 0 or outside.abs().max() < 1e-6, inc
            explained.loc[leaf] += diff.loc[leaf]
            history = u.frame[(u.frame.SubAccountId == inc.SubAccountId)
                              & (u.frame.ServiceName == inc.ServiceName)
                              & (u.frame.ResourceId == inc.ResourceId)]  # fmt: skip
            first = date.fromisoformat(history.ChargePeriodStart.min()) if len(history) else None
            if inc.kind == "new":
                assert first is None, inc
            else:
                assert first is not None and (inc.start - first).days >= 56, inc
        assert (diff - explained).abs().max() < 1e-6  # no other row moves


def test_export_lag_moves_cost_to_the_next_day():
    cfg = _tiny(seed=9, lag=15)
    plain_cfg = replace(cfg, lag_every=0)
    lagged, plain = g.generate(cfg, incidents=False), g.generate(plain_cfg, incidents=False)
    moved = 0
    for t, u in zip(lagged, plain, strict=True):
        a = t.frame.groupby("ProviderName").EffectiveCost.sum()
        b = u.frame.groupby("ProviderName").EffectiveCost.sum()
        np.testing.assert_allclose(a, b, rtol=1e-7)
        days_t = t.frame.groupby("ProviderName").ChargePeriodStart.nunique()
        days_u = u.frame.groupby("ProviderName").ChargePeriodStart.nunique()
        moved += int((days_u - days_t).sum())
    for t in g.generate(cfg):
        for inc in t.incidents:  # never on a lag day or the day after
            prov = t.frame.loc[t.frame.SubAccountId == inc.SubAccountId, "ProviderName"].iloc[0]
            present = set(t.frame.loc[t.frame.ProviderName == prov, "ChargePeriodStart"])
            for d in (inc.start, inc.start - timedelta(days=1)):
                assert str(d) in present, inc
    assert moved > 0

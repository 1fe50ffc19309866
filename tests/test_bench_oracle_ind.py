"""The independent generator's ground truth and its oracle bound (bench/detection/oracle_ind.py)."""

from __future__ import annotations

import copy
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "detection"
sys.path.insert(0, str(BENCH))

import independent as ind  # noqa: E402
import oracle_ind  # noqa: E402
from scoring import score  # noqa: E402

KEY = ["ProviderName", "SubAccountId", "ServiceName", "RegionId", "ResourceId", "ChargeCategory"]


def _small(**changes) -> ind.IndConfig:
    return replace(ind.ind1(5), **{"tenants": 8, **changes})


@pytest.fixture(scope="module")
def small():
    cfg = _small()
    return cfg, ind.generate(cfg), ind.generate(cfg, incidents=False)


def _hit(tenant) -> set[tuple]:
    return {(i.SubAccountId, i.ServiceName, i.ResourceId) for i in tenant.incidents}


def test_truth_is_the_rows_and_expected_times_noise_is_the_spend(small):
    """The truth's spend is what the rows hold (leaf by leaf, credits aside), and on every leaf
    without an incident expected x exp(noise) rebuilds it, for every archetype."""
    cfg, tenants, _ = small
    seen = set()
    for tenant in tenants:
        truth = tenant.truth
        assert truth.expected.shape == truth.spend.shape == (len(truth.meta), cfg.days)
        frame = tenant.frame[tenant.frame["ChargeCategory"] != "Credit"]
        days = [(cfg.start + timedelta(days=d)).isoformat() for d in range(cfg.days)]
        rows = frame.fillna({"ResourceId": "-"}).groupby(KEY)
        keys = truth.meta[KEY].fillna({"ResourceId": "-"})
        assert len(keys.drop_duplicates()) == len(keys) == rows.ngroups
        for k, key in enumerate(keys.itertuples(index=False)):
            got = rows.get_group(tuple(key)).set_index("ChargePeriodStart")["EffectiveCost"]
            np.testing.assert_array_equal(got.reindex(days, fill_value=0.0), truth.spend[k])
        for k, leaf in enumerate(truth.meta.itertuples(index=False)):
            if leaf.archetype in ("fee", "new"):
                continue
            if (leaf.SubAccountId, leaf.ServiceName, leaf.ResourceId) in _hit(tenant):
                continue
            seen.add(leaf.archetype)
            rebuilt = truth.expected[k] * np.exp(truth.noise[k])
            np.testing.assert_allclose(rebuilt, truth.spend[k], rtol=1e-9, atol=5.1e-7)
            if leaf.archetype == "batch":
                runs = truth.schedule[k] & (truth.expected[k] > 0)
                np.testing.assert_allclose(truth.expected[k][runs], truth.run_size[k][runs])
                assert not truth.spend[k][~truth.schedule[k]].any()
    assert seen == set(ind.ARCHETYPES)


def test_the_oracles_statistics_are_unit_noise_on_a_clean_bill(small):
    """Without incidents the innovation z has mean 0 and sd 1, a bursty leaf's never passes the
    generator's clip (3.5), and the drift statistic's sd is 1/√7 whatever phi."""
    cfg, _, clean = small
    z1, drift, bursty = [], [], []
    for tenant in clean:
        leaves = oracle_ind.IndLeaves(tenant, cfg.start)
        alive = leaves.expected > 0
        alive[:, :10] = False
        z1.append(leaves.z1[alive])
        drift.append(leaves.drift[alive])
        is_bursty = (leaves.meta["archetype"] == "bursty").to_numpy()[:, None] & alive
        bursty.append(leaves.z1[is_bursty])
    z1, drift, bursty = (np.concatenate(x) for x in (z1, drift, bursty))
    assert len(z1) > 20_000 and len(bursty) > 1_000
    assert abs(z1.mean()) < 0.05 and z1.std() == pytest.approx(1.0, abs=0.05)
    assert bursty.max() <= 3.5 + 1e-6
    assert drift.std() == pytest.approx(1 / np.sqrt(7), rel=0.1)
    np.testing.assert_allclose(oracle_ind._drift_scale(np.array([0.0]), 7), [1.0])


def test_oracle_finds_large_incidents_and_is_quiet_on_a_clean_bill():
    """With incidents of thousands of USD a day the oracle finds every one on its leaf; on the
    same bill without incidents it raises nothing at the grid's highest finite thresholds, and
    plenty at its lowest (so it is scored, not assumed)."""
    cfg = _small(min_usd=(3000.0, 4000.0), new_usd=(3000.0, 4000.0))
    tenants = ind.generate(cfg)
    incidents = [i for t in tenants for i in t.incidents]
    assert len(incidents) >= 20 and {i.kind for i in incidents} == set(ind.KINDS)
    burn = cfg.start + timedelta(days=cfg.warmup_days)
    for schedule_known in (False, True):
        s = score(incidents, oracle_ind.Oracle(tenants, cfg.start, schedule_known).found(4, 3, 1.5))
        assert (s.tp, s.fn) == (len(incidents), 0)
        assert s.top1 == s.rc_total and s.fp <= 2

    clean = oracle_ind.Oracle(ind.generate(cfg, incidents=False), cfg.start)
    grids = (oracle_ind.GRID_1, oracle_ind.GRID_2, oracle_ind.GRID_3)
    top = [max(t for t in grid if np.isfinite(t)) for grid in grids]
    assert [a for a in clean.found(*top) if a.start >= burn] == []
    low = [grid[0] for grid in grids]
    assert len([a for a in clean.found(*low) if a.start >= burn]) > 20


def test_a_batch_jobs_idle_day_spend_is_all_excess_only_if_its_schedule_is_known(small):
    """Spend on a day a batch job would have idled: knowing the run days, nothing was expected
    (z infinite); not knowing them, the day is judged as a run (finite z, below a run here)."""
    cfg, _, clean = small
    for tenant in clean:
        batch = np.flatnonzero((tenant.truth.meta["archetype"] == "batch").to_numpy())
        if len(batch):
            break
    else:
        pytest.fail("no batch job in the small config")
    k = int(batch[0])
    tenant = copy.deepcopy(tenant)  # the fixture's bill stays as generated
    truth = tenant.truth
    idle = np.flatnonzero(~truth.schedule[k] & (np.arange(cfg.days) > 70))
    d = int(idle[0])
    usage = np.flatnonzero((truth.meta["ChargeCategory"] == "Usage").to_numpy())
    row = int(np.flatnonzero(usage == k)[0])
    truth.spend[k, d] = 0.5 * truth.run_size[k, d]  # half a run on an idle day
    known = oracle_ind.IndLeaves(tenant, cfg.start, schedule_known=True)
    blind = oracle_ind.IndLeaves(tenant, cfg.start)
    assert np.isinf(known.z1[row, d]) and known.excess[row, d] == truth.spend[k, d]
    assert blind.z1[row, d] == pytest.approx(np.log(0.5) / 0.25)
    assert blind.expected[row, d] == truth.run_size[k, d]
    runs = truth.schedule[k] & (truth.spend[k] > 0)
    np.testing.assert_allclose(known.z1[row, runs], blind.z1[row, runs])


def test_percent_of_the_leaf_lowers_the_size_bound_of_a_leaf_in_a_large_service(small):
    """The size test's 25 % judged against the leaf alone is never above the parent-relative
    bound (on a clean bill, where a leaf's judged expected spend is its true one), and is lower
    for a leaf that is a small part of its service and account."""
    cfg, _, clean = small
    tenant = max(clean, key=lambda t: len(t.truth.meta))
    parent = oracle_ind.IndLeaves(tenant, cfg.start)
    leaf = oracle_ind.IndLeaves(tenant, cfg.start, percent_of="resource")
    alive = parent.expected > 0
    assert (leaf.threshold[alive] <= parent.threshold[alive] + 1e-9).all()
    assert (leaf.threshold[alive] < parent.threshold[alive] - 1).any()

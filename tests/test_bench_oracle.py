"""The detection benchmark's ground truth and its oracle bound (bench/detection/oracle.py)."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

BENCH = Path(__file__).resolve().parents[1] / "bench" / "detection"
sys.path.insert(0, str(BENCH))

import configs  # noqa: E402
import oracle  # noqa: E402
from generator import generate  # noqa: E402
from scoring import score  # noqa: E402


def _small(name: str = "main", **changes):
    return replace(getattr(configs, name)(20240601, True), **{"tenants": 6, **changes})


def test_truth_rebuilds_the_rows_spend():
    """The spend the truth holds is the spend written to the rows, leaf by leaf and day by day
    (credits aside), so the oracle judges the data the detectors see."""
    cfg = _small()
    for tenant in generate(cfg):
        truth = tenant.truth
        usage = tenant.frame[tenant.frame["ChargeCategory"] == "Usage"]
        by_leaf = usage.groupby(["SubAccountId", "ServiceName", "ResourceId"], dropna=False)[
            "EffectiveCost"
        ].sum()
        total = truth.spend.sum(axis=1)
        for k, leaf in enumerate(truth.meta.itertuples(index=False)):
            key = (leaf.SubAccountId, leaf.ServiceName, leaf.ResourceId)
            if key[2] != key[2]:  # the month fee's leaf has no ResourceId
                got = usage[
                    (usage["ServiceName"] == leaf.ServiceName) & usage["ResourceId"].isna()
                ]["EffectiveCost"].sum()
            else:
                got = by_leaf[key]
            assert got == pytest.approx(total[k], rel=1e-9)


def test_noise_standardized_by_the_truth_is_student_t():
    """On days without an incident, (spend − expected) ÷ scale is the generator's t noise:
    its quartiles match t(t_df)'s (checked on a heavy-tailed config, dev5: t(3))."""
    cfg = _small("dev5", tenants=10)
    z = []
    for tenant in generate(cfg):
        truth = tenant.truth
        hit = {i.ResourceId for i in tenant.incidents}
        for k, leaf in enumerate(truth.meta.itertuples(index=False)):
            ok = truth.scale[k] > 0
            ok &= truth.spend[k] > 0  # a clipped day is not the raw noise
            if leaf.ResourceId in hit or not ok.any():
                continue
            z.append((truth.spend[k][ok] - truth.expected[k][ok]) / truth.scale[k][ok])
    z = np.concatenate(z)
    assert len(z) > 10_000
    for q, tolerance in ((0.25, 0.05), (0.5, 0.05), (0.75, 0.05), (0.99, 0.5)):
        assert np.quantile(z, q) == pytest.approx(stats.t.ppf(q, cfg.t_df), abs=tolerance)


def test_oracle_finds_every_incident_in_quiet_data():
    """With nearly noise-free spend the oracle finds every incident, names its leaf, and
    raises nothing else; with the usual noise and a low single-day bound it raises false
    alarms (so it is scored, not assumed)."""
    quiet = _small(cv=(0.001, 0.002))
    tenants = generate(quiet)
    incidents = [i for t in tenants for i in t.incidents]
    burn = quiet.start + timedelta(days=quiet.warmup_days - 1)
    for schedule_known in (False, True):
        leaves = [oracle.Leaves(t, quiet.start, schedule_known) for t in tenants]
        s = score(incidents, [f for lv in leaves for f in lv.found(20, 6, 3)], burn)
        assert len(incidents) >= 10
        assert (s.tp, s.fp, s.fn) == (len(incidents), 0, 0)
        assert s.top1 == s.rc_total

    noisy = _small("dev5")
    tenants = generate(noisy)
    leaves = [oracle.Leaves(t, noisy.start) for t in tenants]
    burn = noisy.start + timedelta(days=noisy.warmup_days - 1)
    incidents = [i for t in tenants for i in t.incidents]
    assert score(incidents, [f for lv in leaves for f in lv.found(4, 2, 1)], burn).fp > 10


def test_a_batch_jobs_run_days_are_unknown_unless_asked():
    """A shift on a batch job's leaf: knowing the run days, its spend on a day the job would
    have idled is all excess (z infinite); not knowing them, that day is judged as one of the
    job's runs, and a run-sized day is ordinary either way."""
    cfg = _small("dev2", tenants=30)
    for tenant in generate(cfg):
        truth = tenant.truth
        batch = ~np.isnan(truth.run_expected[:, 0])
        shifted = [
            i
            for i in tenant.incidents
            if i.kind == "shift" and batch[list(truth.meta["ResourceId"]).index(i.ResourceId)]
        ]
        if shifted:
            break
    else:
        pytest.fail("no shift on a batch job's leaf in dev2's first 30 tenants")
    k = list(truth.meta["ResourceId"]).index(shifted[0].ResourceId)
    start = (shifted[0].start - cfg.start).days
    known = oracle.Leaves(tenant, cfg.start, schedule_known=True)
    blind = oracle.Leaves(tenant, cfg.start)
    idle = truth.expected[k] == 0
    after = np.arange(truth.spend.shape[1]) >= start
    assert np.isinf(known.z[k, idle & after]).all()
    assert np.isfinite(blind.z[k, idle & after]).all()
    assert (blind.z[k, idle & after] < 0).any()  # below a run: ordinary for a batch job
    runs_before = ~idle & ~after
    np.testing.assert_allclose(known.z[k, runs_before], blind.z[k, runs_before])

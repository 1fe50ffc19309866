"""Oracle bound on the independent generator: the event F1 truth-knowing rules reach on ind1-3.

    .venv/bin/python bench/detection/oracle_ind.py [ind1 ind2 ind3] [--seed N ...]
        [--schedule-known] [--leaf-percent-of parent|resource] [--no-continuation] [--list]

The analogue of ``oracle.py`` (which serves the first generator) for ``independent.py``: how much
of the gap between CostGuard's event F1 on ind1-3 and 0.90 is in the data. Its *oracle* is given
what no detector has, from the generator's ``IndTruth``: for every leaf and day the noise-free
expected spend before any incident, and the noise's law (log sd ``sigma``, AR(1) ``phi``,
Student-t ``df``, clip). In detail, "expected" is the leaf's level times everything
deterministic or drawn once that is not day noise: weekly pattern, holidays and the year-end
lull, growth, a flat leaf's unlabelled resizes, storage's bending growth curve and clean-ups, a
batch job's run size, and the tenant's **busy-week factor** as it was realised
(``exp(load * common)``). The busy-week factor is a random AR(1) path, but one shared by all the
tenant's demand-driven leaves, so a detector could read it off the other leaves; giving it to
the oracle keeps the bound a ceiling (and keeps each leaf's remaining noise an exact AR(1)).
Month-start Purchase rows (support fee, Marketplace, commitment) are expected at their billed
amount, so never flagged (the support fee follows the previous month's usage, incidents
included: a consequence, not a label); credits are left out, as CostGuard drops negative rows.

The generator's noise is multiplicative and AR(1) in log space, so the oracle works with the
log deviation ``e_t = log(spend_t / expected_t)``, which on a day without incident is exactly the
generator's AR(1) noise. Each rule judges its days against the oracle's forecast from the day
just before them (an incident inside the window does not raise its own baseline), in units of
that forecast's error sd:

- single day: the innovation ``z1_t = (e_t - phi e_{t-1}) / (sigma sqrt(1 - phi^2))`` > τ1;
- two days: ``z1_{t-1}`` > τ2 and day t's deviation from the same base day,
  ``z2_t = (e_t - phi^2 e_{t-2}) / (sigma sqrt(1 - phi^4))``, > τ2;
- drift: the mean over the last 7 days of ``(e_{b+j} - phi^j e_b) / (sigma sqrt(1 - phi^(2j)))``
  (b the day before the window), rescaled so that without incident its sd is 1/√7, as for the
  mean of 7 independent unit z in ``oracle.py``, whatever the leaf's phi, > τ3.

Without incident ``z1`` is the generator's own innovation: N(0, 1), or for bursty leaves
standardised t(df) **clipped at ±3.5**, so no noise day of a bursty leaf has z1 above 3.5. The
oracle is not told about the clip, but a tuned τ1 above 3.5 profits from it; that is part of
the data (bounded tails). A day whose base day is unobserved (a leaf's first day) is judged by
its marginal ``e_t / sigma``. Nothing expected (a new resource, a batch job's idle day when its
schedule is known, a retired leaf) and spend: z is infinite (as in ``oracle.py``); nothing
expected and no spend: z is 0.

Batch jobs: which days a job runs is random, so by default the oracle does not know them: a
day with spend is judged against the job's run size (noise i.i.d., phi 0, sigma 0.25), a day
without against 0 (as ``oracle.py``). ``--schedule-known`` gives it the run days, so spend on a
day the job would have idled is all excess. Retired leaves and immaterial churn are judged like
any other (nothing expected once retired; a churn resource is expected from its first day).

Every rule fires only on a day that passes CostGuard's default size test as ``oracle.py`` applies
it: excess (spend − expected, the noise-free expected, not the forecast) ≥ 10 USD and ≥ 25 % of
the smaller of the leaf's service's (its ServiceName across the tenant) and sub-account's expected
spend, Purchase rows included, from the truth's expected as ``oracle.py`` does (the drift rule:
the 7-day mean excess); with ``--leaf-percent-of resource`` the 25 % is of the leaf's own expected
spend as judged (a batch job's run size on a day with spend when its schedule is unknown): what
CostGuard's parent-relative test loses on incidents large for their resource but small for their
service.

Flagged days of one leaf form one anomaly, runs at most ``cooldown_days`` apart are one (as in
``oracle.py``), and its root cause is the leaf. One addition (``--no-continuation`` turns it off):
an open anomaly also stays open through days on which the leaf is still materially above its
expected spend (the 7-day mean excess passes the size test) or far above it (marginal level z
``e_t / sigma`` > ``CONTINUE_Z``). Without it, a persistent shift or drift whose day statistics
fall back near the thresholds after its onset (the forecast from a raised day is raised) or
whose excess hovers around a size bound that dips at weekends is flagged again every few weeks,
each time a false alarm; a detector does not do that, as its baseline learns the new level. It
only ever merges days of one leaf, so it never joins two incidents (each is on its own leaf).

τ1, τ2, τ3 are tuned on the same config's labels (ties: the higher thresholds) over
``oracle.py``'s grids extended downwards (this noise is unit-normal, not t(3)) and with "off"
(inf); scoring is ``scoring.score`` from ``cfg.start + warmup_days`` (as ``totals._tenants``).
It is a ceiling for rules of this kind, not a detector: its false alarms are noise past the
thresholds, its misses incidents below them or below the size test. ``--list`` prints each miss
and false alarm at the tuned thresholds.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import independent  # noqa: E402
from oracle import DEFAULTS, GRID_DRIFT, GRID_SINGLE, GRID_TWO_DAY, _trailing_mean  # noqa: E402
from scoring import TOLERANCE_DAYS, Found, _in_window, score  # noqa: E402

NAMES = tuple(independent.CONFIGS)
GRID_1 = tuple(sorted({3.0, 3.5, 4.0, 4.5, *GRID_SINGLE}))
GRID_2 = tuple(sorted({1.5, 2.0, *GRID_TWO_DAY, np.inf}))
GRID_3 = tuple(sorted({0.5, 0.75, 1.0, *GRID_DRIFT, np.inf}))
WINDOW = DEFAULTS.drift_window_days
#: Marginal level z (log deviation from expected over sigma) past which a day keeps an open
#: anomaly open; fixed, not tuned (a normal noise day passes it about once in 700).
CONTINUE_Z = 3.0


def _shift(a: np.ndarray, k: int, fill: float) -> np.ndarray:
    """``a`` moved ``k`` days later along axis 1 (day d holds day d - k), ``fill`` before."""
    out = np.full(a.shape, fill, dtype=a.dtype)
    out[:, k:] = a[:, : a.shape[1] - k]
    return out


def _drift_scale(phi: np.ndarray, w: int) -> np.ndarray:
    """Per leaf: the factor that gives the mean of the w standardised deviations from one base
    day the null sd 1/√w (their correlation under AR(1) ``phi`` raises it)."""
    j = np.arange(1, w + 1)
    p = phi[:, None, None]
    i_, j_ = j[None, :, None], j[None, None, :]
    lo, hi = np.minimum(i_, j_), np.maximum(i_, j_)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = (p ** (hi - lo) - p ** (lo + hi)) / np.sqrt(
            (1 - p ** (2 * i_)) * (1 - p ** (2 * j_))
        )
    var_mean = corr.sum(axis=(1, 2)) / w**2
    return np.sqrt(1.0 / w / var_mean)


class IndLeaves:
    """One tenant's usage leaves as the oracle sees them: the three rules' statistics and
    whether each day's excess is material (arrays leaves x days), and the leaves' causes."""

    def __init__(
        self,
        tenant: independent.IndTenant,
        first_day: date,
        schedule_known: bool = False,
        percent_of: str = "parent",
    ):
        truth = tenant.truth
        assert truth is not None, "IndTruth missing: regenerate with this generator"
        meta = truth.meta
        usage = (meta["ChargeCategory"] == "Usage").to_numpy()
        spend = truth.spend[usage]
        expected = truth.expected[usage]
        m = meta[usage].reset_index(drop=True)
        if not schedule_known:  # a batch job's day with spend is judged as one of its runs
            batch = (m["archetype"] == "batch").to_numpy()[:, None]
            expected = np.where(batch & (spend > 0), truth.run_size[usage], expected)
        sigma = m["sigma"].to_numpy(float)[:, None]
        phi = np.nan_to_num(m["phi"].to_numpy(float))[:, None]
        observed = expected > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.where(observed, np.log(np.maximum(spend, 1e-300) / expected), 0.0)
        unexpected = ~observed & (spend > 0)  # nothing expected, yet spend: infinite z
        n = spend.shape[1]

        def deviation(k: int) -> np.ndarray:
            """Each day's deviation from the forecast made k days before (marginal if that
            base day is unobserved), in units of the forecast error's sd."""
            base = _shift(e, k, 0.0)
            seen = _shift(observed, k, False)
            pk = phi**k
            with np.errstate(divide="ignore", invalid="ignore"):
                cond = (e - pk * base) / (sigma * np.sqrt(1 - pk * pk))
            z = np.where(seen, cond, e / sigma)
            z = np.where(observed, z, 0.0)
            return np.where(unexpected, np.inf, z)

        with np.errstate(divide="ignore", invalid="ignore"):
            level = np.where(observed, e / sigma, 0.0)  # marginal: against expected, not forecast
        self.level = np.where(unexpected, np.inf, level)
        self.z1 = deviation(1)
        self.z2 = deviation(2)
        self.z1_previous = _shift(self.z1, 1, -np.inf)
        drift = np.zeros(spend.shape)
        for k in range(1, WINDOW + 1):  # day t - WINDOW + k against base day t - WINDOW
            drift += _shift(deviation(k), WINDOW - k, 0.0)
        drift = drift / WINDOW * _drift_scale(phi[:, 0], WINDOW)[:, None]
        drift[:, : WINDOW - 1] = -np.inf
        self.drift = drift

        excess = spend - expected
        if percent_of == "resource":
            ref = expected
        else:  # the smaller of its service's and sub-account's expected spend (as oracle.py)
            ref = np.full(truth.expected.shape, np.inf)
            for column in ("ServiceName", "SubAccountId"):
                for _, rows in meta.groupby(column, dropna=False).groups.items():
                    rows = np.asarray(list(rows))
                    ref[rows] = np.minimum(ref[rows], truth.expected[rows].sum(axis=0))
            ref = ref[usage]
        threshold = np.maximum(DEFAULTS.min_impact_usd, DEFAULTS.min_impact_pct * ref)
        self.material = excess >= threshold
        self.drift_material = _trailing_mean(excess, WINDOW) >= threshold
        # a day that keeps an open anomaly open: still materially above expected (7-day mean
        # excess passes the size test) or far above it on the day (marginal level z)
        self.ongoing = self.drift_material | (self.level > CONTINUE_Z)
        self.excess, self.threshold, self.expected = excess, threshold, expected
        self.meta = m
        self.causes = [
            ((r.SubAccountId, r.ServiceName, r.ResourceId),) for r in m.itertuples(index=False)
        ]
        self.first_day = first_day
        self.index = tenant.index
        self.days = n


class Oracle:
    """All tenants of one config, stacked, with each rule's flags precomputed per threshold so
    that the grid search is a few array ORs per combination."""

    def __init__(
        self,
        tenants,
        first_day: date,
        schedule_known: bool = False,
        percent_of: str = "parent",
        continuation: bool = True,
    ):
        self.leaves = [IndLeaves(t, first_day, schedule_known, percent_of) for t in tenants]
        cat = np.concatenate
        lv = self.leaves
        self.material = cat([x.material for x in lv])
        self.z1 = cat([x.z1 for x in lv])
        self.pair = cat([np.minimum(x.z1_previous, x.z2) for x in lv])
        self.drift = np.where(cat([x.drift_material for x in lv]), cat([x.drift for x in lv]), -1)
        self.drift = np.where(np.isnan(self.drift), -1, self.drift)
        ongoing = cat([x.ongoing for x in lv])
        self.ongoing = ongoing if continuation else np.zeros(ongoing.shape, bool)
        self.tenant = cat([np.full(len(x.causes), x.index) for x in lv])
        self.causes = [c for x in lv for c in x.causes]
        self.first_day = first_day
        # only leaves flagged under the lowest thresholds can ever start an anomaly
        keep = (self.material & (self.z1 > GRID_1[0])) | (self.material & (self.pair > GRID_2[0]))
        keep = np.flatnonzero((keep | (self.drift > GRID_3[0])).any(axis=1))
        self.ongoing, self.tenant = self.ongoing[keep], self.tenant[keep]
        self.causes = [self.causes[k] for k in keep]
        material, z1, pair, drift = (
            a[keep] for a in (self.material, self.z1, self.pair, self.drift)
        )
        self.single = {t: material & (z1 > t) for t in GRID_1}
        self.two_day = {t: material & (pair > t) for t in GRID_2}
        self.drifts = {t: drift > t for t in GRID_3}

    def found(self, single: float, two_day: float, drift: float) -> list[Found]:
        flags = self.single[single] | self.two_day[two_day] | self.drifts[drift]
        busy = flags | self.ongoing  # days that start or continue an anomaly
        day = np.arange(flags.shape[1])
        last = np.maximum.accumulate(np.where(busy, day, -(10**6)), axis=1)
        chain = busy & (day - _shift(last, 1, -(10**6)) > DEFAULTS.cooldown_days + 1)
        # a chain's first flagged day starts an anomaly: flags before each day, at its chain's start
        count = np.cumsum(flags, axis=1) - flags
        at_chain = np.maximum.accumulate(np.where(chain, count, 0), axis=1)
        starts = flags & (count == at_chain)
        rows, days = np.nonzero(starts)
        return [
            Found(int(self.tenant[r]), self.first_day + timedelta(days=int(d)), self.causes[r])
            for r, d in zip(rows, days, strict=True)
        ]


def bound(
    tenants,
    cfg,
    schedule_known: bool = False,
    percent_of: str = "parent",
    continuation: bool = True,
) -> dict:
    """The oracle's best F1 on one config's tenants and the thresholds that reach it."""
    incidents = [i for t in tenants for i in t.incidents]
    burn = cfg.start + timedelta(days=cfg.warmup_days)
    oracle = Oracle(tenants, cfg.start, schedule_known, percent_of, continuation)
    best = None
    for taus in itertools.product(GRID_1, GRID_2, GRID_3):
        s = score(incidents, oracle.found(*taus), burn)
        # ties: prefer the higher thresholds (fewer rules that fire)
        key = (s.f1, taus)
        if best is None or key > best[0]:
            best = (key, s, taus)
    _, s, taus = best
    return {
        "incidents": len(incidents),
        "f1": s.f1,
        "precision": s.precision,
        "recall": s.recall,
        "false": s.fp,
        "missed": s.fn,
        "taus": taus,
        "recall_by_kind": {
            k: f"{sum(s.recall_by_kind[k])}/{len(s.recall_by_kind[k])}"
            for k in independent.KINDS
            if s.recall_by_kind.get(k)
        },
        "oracle": oracle,
        "burn": burn,
    }


def _explain(tenants, r: dict) -> None:
    """Print the tuned thresholds' misses (with why) and false alarms (with where), one line
    each, then a count of both by reason."""
    oracle, burn = r["oracle"], r["burn"]
    single, two_day, drift_tau = r["taus"]
    found = sorted(
        (f for f in oracle.found(*r["taus"]) if f.start >= burn), key=lambda a: (a.tenant, a.start)
    )
    incidents = [i for t in tenants for i in t.incidents]
    by_tenant = {lv.index: lv for lv in oracle.leaves}
    matched: set[int] = set()
    why_missed: Counter = Counter()
    for inc in sorted(incidents, key=lambda i: (i.tenant, i.start)):
        window = [
            a
            for a in found
            if a.tenant == inc.tenant and _in_window(inc, a) and id(a) not in matched
            if a.causes[0][:2] == (inc.SubAccountId, inc.ServiceName)
        ]
        if window:  # as scoring.score matches (the oracle's causes are one leaf)
            matched.add(id(window[0]))
            continue
        lv = by_tenant[inc.tenant]
        k = lv.causes.index(((inc.SubAccountId, inc.ServiceName, inc.ResourceId),))
        d = (inc.start - oracle.first_day).days
        days = slice(max(d - 1, 0), min(d + TOLERANCE_DAYS[inc.kind] + 1, lv.days))
        passes = (lv.z1[k, days] > single) | (
            (lv.z1_previous[k, days] > two_day) & (lv.z2[k, days] > two_day)
        )
        drift_passes = lv.drift[k, days] > drift_tau
        if ((passes & lv.material[k, days]) | (drift_passes & lv.drift_material[k, days])).any():
            why = "merged"  # flagged in time, but inside a run that began earlier
        elif passes.any() or drift_passes.any():
            why = "size"  # a rule's statistic passes, the size test does not
        else:
            why = "z"  # below every rule's threshold
        why_missed[why] += 1
        print(
            f"  missed ({why:<6}) t{inc.tenant} {inc.kind:<12} {inc.start} "
            f"{lv.meta.archetype[k]:<8} excess {inc.daily_excess_usd:8.2f} "
            f"expected {lv.expected[k, d]:8.2f} size bound {lv.threshold[k, d]:8.2f} z1 "
            + " ".join(f"{v:.1f}" for v in lv.z1[k, d : d + 3])
            + f" drift {lv.drift[k, min(d + 6, lv.days - 1)]:.2f}"
        )
    where: Counter = Counter()
    for a in found:
        if id(a) in matched:
            continue
        lv = by_tenant[a.tenant]
        k = lv.causes.index(a.causes)
        d = (a.start - oracle.first_day).days
        own = [
            i
            for i in incidents
            if i.tenant == a.tenant and (i.SubAccountId, i.ServiceName) == a.causes[0][:2]
        ]
        if own:
            lag = (a.start - own[0].start).days
            kind = f"{own[0].kind} leaf, {lag:+d} d"
            where["incident's leaf " + ("before" if lag < 0 else "after")] += 1
        else:
            kind = "noise"
            where[f"noise ({lv.meta.archetype[k]})"] += 1
        print(
            f"  false  ({kind}) t{a.tenant} {a.start} {lv.meta.archetype[k]:<8} "
            f"spend {lv.excess[k, d] + lv.expected[k, d]:8.2f} expected {lv.expected[k, d]:8.2f} "
            f"size bound {lv.threshold[k, d]:8.2f} z1 {lv.z1[k, d]:.1f} z2 {lv.z2[k, d]:.1f} "
            f"drift {lv.drift[k, d]:.2f}"
        )
    print(
        "  missed: "
        + (", ".join(f"{k} {v}" for k, v in sorted(why_missed.items())) or "none")
        + "; false: "
        + (", ".join(f"{k} {v}" for k, v in sorted(where.items())) or "none")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"configs (default: {' '.join(NAMES)})")
    parser.add_argument("--seed", type=int, nargs="+", default=[7])
    parser.add_argument(
        "--schedule-known", action="store_true", help="the oracle also knows batch run days"
    )
    parser.add_argument(
        "--leaf-percent-of",
        choices=("parent", "resource"),
        default="parent",
        help="judge the size test's 25 %% against the smaller of the leaf's service and "
        "sub-account (parent, CostGuard's default) or against the leaf itself (resource)",
    )
    parser.add_argument(
        "--no-continuation",
        action="store_true",
        help="group a leaf's flagged days by the cooldown alone (as oracle.py), not also "
        "through days that stay materially above expected",
    )
    parser.add_argument("--list", action="store_true", help="print misses and false alarms")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown config(s): {', '.join(unknown)}")
    if set(args.seed) & set(range(10, 14)):
        parser.error("seeds 10-13 are reserved judgement lines (bench/detection/totals.py)")
    known = "known" if args.schedule_known else "unknown"
    of = "the leaf" if args.leaf_percent_of == "resource" else "its service / sub-account"
    grouping = "cooldown only" if args.no_continuation else "cooldown + continuation"
    print(
        f"# oracle bound, independent generator: best F1 of truth-knowing rules, thresholds "
        f"tuned; batch run days {known}; size test 25 % of {of}; runs: {grouping}"
    )
    print(
        "| config | seed | incidents | oracle P | oracle R | oracle F1 | false | missed "
        "| τ1 / τ2 / τ3 | recall by kind | F1, run days known | F1, 25 % of the leaf | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name in args.names or NAMES:
        for seed in args.seed:
            t0 = time.perf_counter()
            cfg = independent.CONFIGS[name](seed)
            tenants = independent.generate(cfg)
            cont = not args.no_continuation
            r = bound(tenants, cfg, args.schedule_known, args.leaf_percent_of, cont)
            known_f1 = (
                r["f1"]
                if args.schedule_known
                else bound(tenants, cfg, True, args.leaf_percent_of, cont)["f1"]
            )
            leaf_f1 = (
                r["f1"]
                if args.leaf_percent_of == "resource"
                else bound(tenants, cfg, args.schedule_known, "resource", cont)["f1"]
            )
            kinds = ", ".join(f"{k} {v}" for k, v in r["recall_by_kind"].items())
            print(
                f"| {name} | {seed} | {r['incidents']} | {r['precision']:.3f} "
                f"| {r['recall']:.3f} | {r['f1']:.3f} | {r['false']} | {r['missed']} "
                f"| {' / '.join(f'{t:g}' for t in r['taus'])} | {kinds} | {known_f1:.3f} "
                f"| {leaf_f1:.3f} | {time.perf_counter() - t0:.0f} |",
                flush=True,
            )
            if args.list:
                _explain(tenants, r)


if __name__ == "__main__":
    main()

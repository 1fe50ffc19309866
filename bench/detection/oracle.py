"""Oracle bound: the event F1 a detector could reach on a config if it knew the truth.

    .venv/bin/python bench/detection/oracle.py [main holdout3 ...] [--seed N] [--schedule-known]

The benchmark's incidents sit in Student-t noise. On the heavy-tailed configs (t(2.8)–t(3.5),
noise cv up to 0.3) a one-day spike of 2–5× a leaf's level is as large as the noise's own
excursions, so part of the F1 gap may be in the data rather than the detector. This script
measures how much. Its *oracle* is given what no detector has, from the generator
(``generator.Truth``): every leaf's noise-free expected spend on every day (seasonality, growth,
the month fee's size, a batch job's run size) and its noise scale, both as they were before any
incident. It judges each leaf by z = (spend − expected) ÷ scale, which on a day without
incident is exactly t(``t_df``), with the detector's kind of rules:

- single day: z > τ1;
- two days: z > τ2 on the day and the day before;
- drift: the mean z of the last 7 days > τ3;

each only on a day whose excess passes CostGuard's default size test (≥ 10 USD and ≥ 25 % of
the smaller of the leaf's service's and account's expected spend, as for CostGuard's leaf
monitors). A new resource has nothing expected, so its z is infinite. Flagged days of one leaf
form one anomaly, runs at most ``cooldown_days`` apart count as one (CostGuard's cooldown), and
its root cause is the leaf: so the oracle never raises an incident twice, never names the wrong
leaf and never misjudges a batch job's run size. Which days a batch job runs is random, so by
default the oracle does not know them either: a batch job's day with spend is judged against its
run size, a day without against 0. With ``--schedule-known`` it also knows the run days, so
spend on a day the job would have been idle is all excess (an upper bound no detector can use:
a shift or loop on a batch job is found the day it starts). τ1, τ2, τ3 are then chosen on the same
config's labels to maximise F1 (grid below). Scoring is ``scoring.score``, the same as in run.py.

So the oracle's F1 is what such rules reach with perfect knowledge of normal spend and thresholds
tuned on the answers: a detector that must learn expected spend and scale from 4–8 weeks of
history scores below it. Its false alarms are noise excursions past the thresholds, its misses
incidents smaller than them. It is not a proof of optimality (a likelihood-ratio test with a
prior on incident sizes could do a little better), but when the oracle stays below a target,
no detector of this kind reaches that target on that data.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from costguard_core.detection.config import DetectorConfig

sys.path.insert(0, str(Path(__file__).resolve().parent))

import configs  # noqa: E402
from generator import Tenant, generate  # noqa: E402
from scoring import Found, score  # noqa: E402
from study import HOLDOUTS, STUDY  # noqa: E402

#: CostGuard's defaults, so the oracle's size test, cooldown and drift window are the detector's.
DEFAULTS = DetectorConfig()
GRID_SINGLE = (5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 18, 20, 23, 26, 30, 35, 40, 50, 60, 80, np.inf)
GRID_TWO_DAY = (2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 10, 13)
GRID_DRIFT = (1.5, 2, 2.5, 3, 4, 5, 7)
NAMES = STUDY + HOLDOUTS  # the development configs, then the holdouts


class Leaves:
    """One tenant's leaf evidence: z per leaf and day and whether the day's excess is material
    (arrays of shape leaves × days), the drift window's mean z, and the leaves' scopes."""

    def __init__(self, tenant: Tenant, first_day: date, schedule_known: bool = False):
        truth = tenant.truth
        assert truth is not None, "generator.Truth missing: regenerate with this generator"
        expected, scale, spend = truth.expected, truth.scale, truth.spend
        if not schedule_known:  # a batch job's positive day is judged as one of its runs
            batch_run = ~np.isnan(truth.run_expected) & (spend > 0)
            expected = np.where(batch_run, truth.run_expected, expected)
            scale = np.where(batch_run, truth.run_scale, scale)
        excess = spend - expected
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(scale > 0, excess / scale, np.where(excess > 1e-9, np.inf, 0.0))
        meta = truth.meta
        ref = np.full(expected.shape, np.inf)
        for column in ("ServiceName", "SubAccountId"):
            for _, rows in meta.groupby(column, dropna=False).groups.items():
                rows = np.asarray(list(rows))
                ref[rows] = np.minimum(ref[rows], truth.expected[rows].sum(axis=0))
        threshold = np.maximum(DEFAULTS.min_impact_usd, DEFAULTS.min_impact_pct * ref)
        self.z = z
        self.material = excess >= threshold
        self.drift = _trailing_mean(z, DEFAULTS.drift_window_days)
        self.drift_material = _trailing_mean(excess, DEFAULTS.drift_window_days) >= threshold
        self.causes = [
            ((r.SubAccountId, r.ServiceName, r.ResourceId),) for r in meta.itertuples(index=False)
        ]
        self.first_day = first_day
        self.index = tenant.index

    def found(self, single: float, two_day: float, drift: float) -> list[Found]:
        z = self.z
        previous = np.concatenate([np.full((len(z), 1), -np.inf), z[:, :-1]], axis=1)
        flags = self.material & ((z > single) | ((z > two_day) & (previous > two_day)))
        flags |= self.drift_material & (self.drift > drift)
        out = []
        for leaf in np.flatnonzero(flags.any(axis=1)):
            days = np.flatnonzero(flags[leaf])
            starts = days[np.concatenate([[True], np.diff(days) > DEFAULTS.cooldown_days + 1])]
            for d in starts:
                out.append(
                    Found(self.index, self.first_day + timedelta(days=int(d)), self.causes[leaf])
                )
        return out


def _trailing_mean(a: np.ndarray, width: int) -> np.ndarray:
    """Mean of each row's ``width`` days ending on each day (-inf before a full window)."""
    out = np.full(a.shape, -np.inf)
    out[:, width - 1 :] = np.lib.stride_tricks.sliding_window_view(a, width, axis=1).mean(axis=2)
    return out


def bound(name: str, seed: int, schedule_known: bool = False) -> dict:
    """The oracle's best F1 on one config and the thresholds that reach it."""
    cfg = getattr(configs, name)(seed, False)
    tenants = generate(cfg)
    incidents = [i for t in tenants for i in t.incidents]
    burn = cfg.start + timedelta(days=cfg.warmup_days - 1)
    leaves = [Leaves(t, cfg.start, schedule_known) for t in tenants]
    best = None
    for single, two_day, drift in itertools.product(GRID_SINGLE, GRID_TWO_DAY, GRID_DRIFT):
        found = [f for lv in leaves for f in lv.found(single, two_day, drift)]
        s = score(incidents, found, burn)
        if best is None or s.f1 > best[0].f1:
            best = (s, (single, two_day, drift))
    s, taus = best
    return {
        "config": name,
        "t_df": cfg.t_df,
        "cv": cfg.cv,
        "incidents": len(incidents),
        "f1": s.f1,
        "precision": s.precision,
        "recall": s.recall,
        "false": s.fp,
        "missed": s.fn,
        "taus": taus,
        "recall_by_kind": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(s.recall_by_kind.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"configs (default: all of {', '.join(NAMES)})")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument(
        "--schedule-known", action="store_true", help="the oracle also knows batch run days"
    )
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown config(s): {', '.join(unknown)}")
    known = "known" if args.schedule_known else "unknown"
    print(
        f"# oracle bound (seed {args.seed}): best F1 of truth-knowing rules, thresholds tuned; "
        f"batch run days {known}"
    )
    print(
        "| config | noise | incidents | oracle P | oracle R | oracle F1 | false | missed "
        "| τ1 / τ2 / τ3 | recall by kind |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in args.names or NAMES:
        r = bound(name, args.seed, args.schedule_known)
        kinds = ", ".join(f"{k} {v}" for k, v in r["recall_by_kind"].items())
        print(
            f"| {r['config']} | t({r['t_df']:g}), cv {r['cv'][0]:g}–{r['cv'][1]:g} "
            f"| {r['incidents']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} "
            f"| {r['false']} | {r['missed']} | {' / '.join(f'{t:g}' for t in r['taus'])} "
            f"| {kinds} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

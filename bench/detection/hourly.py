"""Hourly benchmark: how many hours after an incident starts CostGuard raises it.

Each tenant of a config (``generator.generate``) is turned into hourly FOCUS rows: every leaf's
normal daily spend is spread over the day with a diurnal profile (busier 08–20 UTC, ±10 % hourly
noise), and each incident's excess starts at a labelled hour — 02:00 UTC for weekend loops (the
seed's "loop starts Saturday 02:00"), a random hour 00–20 for the other kinds — and then runs flat
around the clock (a loop, a bigger instance, a new resource do not follow office hours). On the
first day the day's excess is put into the hours from the start hour on; the daily totals are
therefore the generator's, so the daily detector sees exactly the daily benchmark's data.

The excess of a day is the leaf's spend above its normal level (median of the same weekday over
the 4 weeks before the incident), as the generator adds it on top of that level.

Scored: the daily detector on the daily totals (raised when the day closes, at 24:00) and
``detect_hourly`` on the hourly rows, with the daily benchmark's event rule (scoring.py); delay
is hours from the incident's start hour to the raise.

    .venv/bin/python bench/detection/hourly.py [--config main|devN|holdoutN] [--tenants N]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import configs  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from costguard_core.detection import detect  # noqa: E402
from costguard_core.detection.hourly import detect_hourly  # noqa: E402
from generator import Incident, Tenant, generate  # noqa: E402
from scoring import Found, score  # noqa: E402

PROFILE = 1 + 0.6 * np.sin((np.arange(24) - 8) / 24 * 2 * np.pi).clip(0)
PROFILE = PROFILE / PROFILE.sum()


@dataclass(frozen=True)
class HourlyTenant:
    tenant: Tenant
    frame: pd.DataFrame  # hourly FOCUS rows
    start_hour: dict[int, int]  # incident index -> UTC hour its excess starts


def _excess(frame: pd.DataFrame, inc: Incident) -> pd.Series:
    """Excess spend per day of the incident's leaf (index: row labels of ``frame``)."""
    rows = frame[(frame["ResourceId"] == inc.ResourceId) & (frame["EffectiveCost"] > 0)]
    days = pd.to_datetime(rows["ChargePeriodStart"])
    start = pd.Timestamp(inc.start)
    before = rows[(days < start) & (days >= start - pd.Timedelta(days=28))]
    weekday = pd.to_datetime(before["ChargePeriodStart"]).dt.day_of_week
    normal = before.groupby(weekday)["EffectiveCost"].median()
    after = rows[(days >= start) & (days <= pd.Timestamp(inc.end))]
    level = pd.to_datetime(after["ChargePeriodStart"]).dt.day_of_week.map(normal).fillna(0.0)
    return (after["EffectiveCost"] - level.to_numpy()).clip(lower=0.0)


def to_hourly(tenant: Tenant, rng: np.random.Generator) -> HourlyTenant:
    frame = tenant.frame.reset_index(drop=True)
    cost = frame["EffectiveCost"].to_numpy(dtype=float)
    normal = cost.copy()
    extra = np.zeros((len(frame), 24))
    start_hour = {}
    for i, inc in enumerate(tenant.incidents):
        h = 2 if inc.kind == "weekend_loop" else int(rng.integers(0, 21))
        start_hour[i] = h
        excess = _excess(frame, inc)
        first = pd.to_datetime(frame.loc[excess.index, "ChargePeriodStart"]) == pd.Timestamp(
            inc.start
        )
        for row, e in excess.items():
            normal[row] -= e
            if first[row]:
                extra[row, h:] = e / (24 - h)
            else:
                extra[row, :] = e / 24
    share = PROFILE[None, :] * rng.uniform(0.9, 1.1, (len(frame), 24))
    share = share / share.sum(axis=1, keepdims=True)
    hourly = normal[:, None] * share + extra  # negative rows (credits) keep their sign
    out = frame.loc[np.repeat(frame.index.to_numpy(), 24)].reset_index(drop=True)
    out["EffectiveCost"] = hourly.ravel()
    out["ChargePeriodStart"] = pd.to_datetime(out["ChargePeriodStart"]) + pd.to_timedelta(
        np.tile(np.arange(24), len(frame)), unit="h"
    )
    out = out[out["EffectiveCost"] != 0].reset_index(drop=True)
    return HourlyTenant(tenant, out, start_hour)


def _found(tenant: int, a) -> Found:
    causes = tuple((c.SubAccountId, c.ServiceName, c.ResourceId) for c in a.root_causes)
    return Found(tenant, a.start, causes)


def _delays(ht: HourlyTenant, raised: list[tuple[Found, datetime]]) -> dict[str, list[float]]:
    """Hours from each found incident's start hour to the raise of the anomaly matched to it
    (the first anomaly in its window naming its service and sub-account, as scoring does)."""
    out: dict[str, list[float]] = {}
    for i, inc in enumerate(ht.tenant.incidents):
        began = datetime.combine(inc.start, datetime.min.time()) + timedelta(hours=ht.start_hour[i])
        for f, at in sorted(raised, key=lambda x: x[1]):
            lag = (f.start - inc.start).days
            if not -1 <= lag <= (14 if inc.kind == "drift" else 3):
                continue
            if any(c[0] == inc.SubAccountId and c[1] == inc.ServiceName for c in f.causes[:3]):
                out.setdefault(inc.kind, []).append((at - began).total_seconds() / 3600)
                break
    return out


def run(cfg, limit: int | None = None, checkpoints=None) -> None:
    rng = np.random.default_rng([cfg.seed, 99])
    tenants = generate(cfg)[:limit]
    hourly = [to_hourly(t, rng) for t in tenants]
    incidents = [i for t in tenants for i in t.incidents]
    burn = cfg.start + timedelta(days=cfg.warmup_days - 1)
    rows = sum(len(h.frame) for h in hourly)
    print(
        f"\n### hourly, {cfg.name} (seed {cfg.seed}): {len(tenants)} tenants, {rows:,} hourly "
        f"FOCUS rows, {len(incidents)} incidents"
    )
    print(
        "| detector | precision | recall | F1 | RC top-1 | RC top-3 | false | median hours to "
        "raise: spike | shift | drift | new | weekend_loop | loops raised by Sat 12:00 | s |"
    )
    print("|" + "---|" * 14)
    for name in ("daily (raised at 24:00)", "**CostGuard hourly**"):
        found, delays, t0 = [], {}, time.perf_counter()
        loops_by_noon, loops = 0, 0
        for ht in hourly:
            if name.startswith("daily"):
                daily = ht.tenant.frame
                out = detect(daily)
                raised = [
                    (
                        _found(ht.tenant.index, a),
                        datetime.combine(a.start, datetime.min.time()) + timedelta(days=1),
                    )
                    for a in out
                ]
            else:
                out = detect_hourly(
                    ht.frame, **({} if checkpoints is None else {"checkpoints": checkpoints})
                )
                raised = [(_found(ht.tenant.index, a), a.detected_at) for a in out]
            found += [f for f, _ in raised]
            for kind, values in _delays(ht, raised).items():
                delays.setdefault(kind, []).extend(values)
            for inc in ht.tenant.incidents:
                if inc.kind != "weekend_loop":
                    continue
                loops += 1
                noon = datetime.combine(inc.start, datetime.min.time()) + timedelta(hours=12)
                loops_by_noon += any(
                    at <= noon
                    and any(
                        c[0] == inc.SubAccountId and c[1] == inc.ServiceName for c in f.causes[:3]
                    )
                    for f, at in raised
                )
        secs = time.perf_counter() - t0
        row = score(incidents, found, burn).row()
        med = [
            f"{np.median(delays[k]):.0f}" if delays.get(k) else "–"
            for k in ("spike", "shift", "drift", "new", "weekend_loop")
        ]
        print(
            f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | "
            f"{row['top1']:.3f} | {row['top3']:.3f} | {row['false_alarms']} | "
            + " | ".join(med)
            + f" | {loops_by_noon}/{loops} | {secs:.1f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Every config (session 16: the development ones too, to study the hourly path there;
    # the holdouts' lines are read as summaries only, as in run.py).
    names = ["main", *configs.HOLDOUTS, *(f"dev{n}" for n in range(2, 10))]
    parser.add_argument("--config", choices=names, default="main")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--tenants", type=int, default=None, help="first N tenants only")
    parser.add_argument(
        "--every",
        type=int,
        default=None,
        help="checkpoint every N hours (default: detect_hourly's)",
    )
    args = parser.parse_args()
    every = None if args.every is None else tuple(range(args.every - 1, 24, args.every))
    run(getattr(configs, args.config)(args.seed, False), args.tenants, every)


if __name__ == "__main__":
    main()

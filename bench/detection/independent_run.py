"""Score CostGuard (and the two cheap baselines) on the independent generator (independent.py).

    .venv/bin/python bench/detection/independent_run.py [--config ind1|ind2|ind3|all] [--seed N]
        [--no-baselines]

``main(generator)`` serves any generator module with the same interface (``CONFIGS``,
``generate``, configs with ``start``, ``days``, ``warmup_days``): ``independent2_run.py`` runs
it on ``independent2.py``.

Per config: generate, run ``run.costguard`` (tenant by tenant) and ``run.costguard_one_frame``
(all tenants in one frame), then the ``robust_z`` and ``ratio`` baselines, score each with
``scoring.score`` from the first day incidents may start, and print the lines.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baselines  # noqa: E402
import independent  # noqa: E402
import run  # noqa: E402
from scoring import TOLERANCE_DAYS, score  # noqa: E402

KINDS = list(independent.KINDS)


def _lines(name: str, s, seconds: float) -> list[str]:
    row = s.row()
    head = (
        f"{name:<20} {row['precision']:6.3f} {row['recall']:6.3f} {row['f1']:6.3f} "
        f"{row['top1']:6.3f} {row['top3']:6.3f} {row['alarms']:6d} {s.fp:5d} {s.fn:5d} "
        f"{seconds:8.2f}"
    )
    rec = "  ".join(
        f"{k} {sum(s.recall_by_kind[k])}/{len(s.recall_by_kind[k])}"
        for k in KINDS
        if s.recall_by_kind.get(k)
    )
    delay = "  ".join(f"{k} {s.median_delay(k):.1f}" for k in TOLERANCE_DAYS)
    return [head, f"{'':<20} recall by kind: {rec}", f"{'':<20} median delay (days): {delay}"]


def run_config(generator: ModuleType, name: str, seed: int, with_baselines: bool) -> None:
    cfg = generator.CONFIGS[name](seed)
    t0 = time.perf_counter()
    tenants = generator.generate(cfg)
    gen_secs = time.perf_counter() - t0
    incidents = [i for t in tenants for i in t.incidents]
    rows = sum(len(t.frame) for t in tenants)
    series = sum(
        t.frame.groupby(
            ["SubAccountId", "ServiceName", "ResourceId", "ChargeCategory"], dropna=False
        ).ngroups
        for t in tenants
    )
    from_day = cfg.start + timedelta(days=cfg.warmup_days)
    end = cfg.start + timedelta(days=cfg.days - 1)
    by_kind = Counter(i.kind for i in incidents)
    print(f"== {name} (seed {seed})")
    print(
        f"tenants {len(tenants)}  leaf series {series}  days {cfg.days} "
        f"({cfg.start}..{end})  rows {rows}  generated in {gen_secs:.1f}s"
    )
    print(
        f"incidents {len(incidents)}: "
        + ", ".join(f"{k} {by_kind.get(k, 0)}" for k in KINDS)
        + f"  (scored from {from_day})"
    )
    print(
        f"{'detector':<20} {'prec':>6} {'recall':>6} {'F1':>6} {'RC@1':>6} {'RC@3':>6} "
        f"{'alarms':>6} {'FA':>5} {'miss':>5} {'seconds':>8}"
    )
    runs = [("costguard", run.costguard), ("costguard_one_frame", run.costguard_one_frame)]
    if with_baselines:
        for b in ("robust_z", "ratio"):
            runs.append((b, lambda ts, b=b: baselines.run_baseline(b, ts, seed)))
    for label, fn in runs:
        try:
            found, secs = fn(tenants)
        except Exception as exc:  # report, do not interpret
            print(f"{label:<20} ERROR {type(exc).__name__}: {exc}")
            continue
        for line in _lines(label, score(incidents, found, from_day), secs):
            print(line)
    print(flush=True)


def main(generator: ModuleType = independent, description: str | None = None) -> None:
    ap = argparse.ArgumentParser(description=description or __doc__.splitlines()[0])
    ap.add_argument("--config", default="all", choices=["all", *generator.CONFIGS])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-baselines", action="store_true")
    args = ap.parse_args()
    names = list(generator.CONFIGS) if args.config == "all" else [args.config]
    for name in names:
        run_config(generator, name, args.seed, not args.no_baselines)


if __name__ == "__main__":
    main()

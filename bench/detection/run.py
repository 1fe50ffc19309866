"""Detection benchmark: CostGuard beside the published baselines on labelled synthetic spend.

    .venv/bin/python bench/detection/run.py [--quick] [--seed N] [--no-prophet] [--no-scale]
        [--only NAME]

For each config (``main``, ``holdout`` .. ``holdout27``; see configs.py) it generates
the tenants, runs CostGuard's ``detect`` per tenant and every baseline on the same tenants, scores
them with the same event-matching rule (scoring.py) and prints one table. Prophet is slow, so it
runs on a sample of tenants; CostGuard is scored on that same sample on the line beside it, and
the speed ratio is measured per series. The scale section (scale.py) follows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datetime import timedelta  # noqa: E402

import baselines  # noqa: E402
import configs  # noqa: E402
import pandas as pd  # noqa: E402
from costguard_core.detection import detect  # noqa: E402
from generator import generate  # noqa: E402
from scoring import Found, score  # noqa: E402

COLUMNS = ["precision", "recall", "f1", "top1", "top3", "alarms", "false_alarms"]
KINDS = ["spike", "shift", "drift", "new", "weekend_loop"]


def found_of(tenant: int, a) -> Found:
    """An anomaly (``AnomalyCreate``) as the scorer sees it, credited to ``tenant``."""
    causes = tuple((c.SubAccountId, c.ServiceName, c.ResourceId) for c in a.root_causes)
    return Found(tenant, a.start, causes)


def costguard(tenants: list) -> tuple[list[Found], float]:
    found: list[Found] = []
    t0 = time.perf_counter()
    for t in tenants:
        found += [found_of(t.index, a) for a in detect(t.frame)]
    return found, time.perf_counter() - t0


def costguard_one_frame(tenants: list) -> tuple[list[Found], float]:
    """All tenants in one frame (one scan of a file holding several organisations); each
    anomaly is credited to the tenant owning its first root cause's sub-account."""
    owner = {s: t.index for t in tenants for s in t.frame["SubAccountId"].unique()}
    frame = pd.concat([t.frame for t in tenants], ignore_index=True)
    t0 = time.perf_counter()
    found: list[Found] = []
    for a in detect(frame):
        tenant = next((owner[c.SubAccountId] for c in a.root_causes if c.SubAccountId in owner), -1)
        found.append(found_of(tenant, a))
    return found, time.perf_counter() - t0


def line(name: str, row: dict, seconds: float, n_series: int) -> str:
    cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS]
    delays = [
        "–" if row[f"delay_{k}"] != row[f"delay_{k}"] else f"{row[f'delay_{k}']:.0f}" for k in KINDS
    ]
    per = 1000 * seconds / max(n_series, 1)
    return "| " + " | ".join([name, *cells, *delays, f"{per:.2f}"]) + " |"


def header() -> str:
    names = ["detector", "precision", "recall", "F1", "RC top-1", "RC top-3", "alarms", "false"]
    names += [f"delay {k} (d)" for k in KINDS] + ["ms/series"]
    return "| " + " | ".join(names) + " |\n|" + "---|" * len(names)


PROPHET_MS: list[float] = []


def run_config(cfg, args) -> None:
    tenants = generate(cfg)
    incidents = [i for t in tenants for i in t.incidents]
    n_series = sum(len(baselines.leaf_matrix(t.frame)[0]) for t in tenants)
    rows = sum(len(t.frame) for t in tenants)
    print(
        f"\n### {cfg.name} (seed {cfg.seed}): {len(tenants)} tenants, {n_series} leaf series, "
        f"{cfg.days} days, {rows:,} FOCUS rows, {len(incidents)} incidents "
        + ", ".join(f"{k} {sum(i.kind == k for i in incidents)}" for k in KINDS)
    )
    print(header())
    # Anomalies before the first day an incident can start (less the tolerance) are not scored:
    # no detector has the history to judge them (the burn-in, the same for all).
    burn = cfg.start + timedelta(days=cfg.warmup_days - 1)
    found, secs = costguard(tenants)
    cg = score(incidents, found, burn)
    print(line("**CostGuard**", cg.row(), secs, n_series))
    one, one_secs = costguard_one_frame(tenants)
    print(
        line(
            "CostGuard, all tenants in one frame",
            score(incidents, one, burn).row(),
            one_secs,
            n_series,
        )
    )
    for name in ("robust_z", "ratio", "iforest"):
        b_found, b_secs = baselines.run_baseline(name, tenants, args.seed)
        print(line(name, score(incidents, b_found, burn).row(), b_secs, n_series))
    if not args.no_prophet:
        sample = tenants[: args.prophet_tenants]
        s_inc = [i for t in sample for i in t.incidents]
        s_series = sum(len(baselines.leaf_matrix(t.frame)[0]) for t in sample)
        p_found, p_secs = baselines.run_baseline("prophet", sample, args.seed)
        c_found, c_secs = costguard(sample)
        print(
            line(
                f"prophet ({len(sample)} tenants)",
                score(s_inc, p_found, burn).row(),
                p_secs,
                s_series,
            )
        )
        print(
            line(
                f"CostGuard (same {len(sample)})",
                score(s_inc, c_found, burn).row(),
                c_secs,
                s_series,
            )
        )
        PROPHET_MS.append(1000 * p_secs / s_series)
        print(
            f"\nProphet: {p_secs:.1f} s for {s_series} leaf series "
            f"({1000 * p_secs / s_series:.0f} ms/series, refit every {baselines.BLOCK} days); "
            f"CostGuard {1000 * c_secs / s_series:.2f} ms/series on the same sample: "
            f"{p_secs / c_secs:.0f}x faster."
        )
    print(
        "\nrecall by kind (CostGuard): "
        + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(cg.recall_by_kind.items()))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer tenants, Prophet on 2")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--no-prophet", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument(
        "--only",
        choices=("main", *configs.HOLDOUTS),
        default=None,
    )
    args = parser.parse_args()
    args.prophet_tenants = 2 if args.quick else 4
    load = os.getloadavg()
    print(
        f"# detection benchmark (seed {args.seed}{', quick' if args.quick else ''}); "
        f"load average at start {load[0]:.2f} on {os.cpu_count()} cores"
    )
    for name in ("main", *configs.HOLDOUTS):
        make = getattr(configs, name)
        cfg = make(args.seed, args.quick)
        if args.only in (None, cfg.name):
            run_config(cfg, args)
    if not args.no_scale:
        import scale

        scale.report(quick=args.quick, prophet_ms_per_series=min(PROPHET_MS, default=None))


if __name__ == "__main__":
    main()

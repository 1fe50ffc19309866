"""Development aid: CostGuard's score on one config, its false alarms and misses.

    .venv/bin/python bench/detection/study.py main|dev2|...|dev9|ind1|...|k2 [--list] [--one-frame]

Never run it on a holdout config (bench/README.md "What was tuned on what"). The independent
generators' configs (``ind1`` .. ``ind3``, ``k1``, ``k2``) are studied at their development seed
(7) only; ``--seed`` applies to the old family's configs.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import configs  # noqa: E402
import run  # noqa: E402
import totals  # noqa: E402
from costguard_core.detection import detect  # noqa: E402
from generator import generate  # noqa: E402
from scoring import Found, _in_window, score  # noqa: E402

STUDY, HOLDOUTS = configs.STUDY, configs.HOLDOUTS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="+", choices=STUDY + HOLDOUTS + tuple(totals.IND))
    parser.add_argument("--list", action="store_true", help="print false alarms and misses")
    parser.add_argument("--one-frame", action="store_true", help="also all tenants in one frame")
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()
    refused = [n for n in args.names if n in HOLDOUTS]
    if refused:
        parser.error(f"{', '.join(refused)}: holdouts are not studied (bench/README.md)")
    for name in args.names:
        if name in totals.IND:  # its development seed (totals.IND_DEV_SEED), never cached
            tenants, burn = totals._tenants(name)
        else:
            cfg = getattr(configs, name)(args.seed, False)
            tenants = generate(cfg)
            burn = cfg.start + timedelta(days=cfg.warmup_days - 1)
        incidents = [i for t in tenants for i in t.incidents]
        found, raw = [], []
        for t in tenants:
            for a in detect(t.frame):
                causes = tuple((c.SubAccountId, c.ServiceName, c.ResourceId) for c in a.root_causes)
                f = Found(t.index, a.start, causes)
                found.append(f)
                raw.append((f, a))
        s = score(incidents, found, burn)
        r = s.row()
        print(
            f"{name}: P {r['precision']:.3f} R {r['recall']:.3f} F1 {r['f1']:.3f} "
            f"top1 {r['top1']:.3f} top3 {r['top3']:.3f} alarms {r['alarms']} "
            f"false {r['false_alarms']} "
            + " ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(s.recall_by_kind.items()))
        )
        if args.one_frame:
            o = score(incidents, run.costguard_one_frame(tenants)[0], burn).row()
            print(
                f"{name} one frame: P {o['precision']:.3f} R {o['recall']:.3f} F1 {o['f1']:.3f} "
                f"false {o['false_alarms']}"
            )
        if not args.list:
            continue
        matched = set()
        for inc in sorted(incidents, key=lambda i: (i.tenant, i.start)):
            hit = next(
                (
                    f
                    for f, _ in raw
                    if f.tenant == inc.tenant
                    and id(f) not in matched
                    and f.start >= burn
                    and _in_window(inc, f)
                    and any(
                        c[0] == inc.SubAccountId and c[1] == inc.ServiceName for c in f.causes[:3]
                    )
                ),
                None,
            )
            if hit is None:
                print(
                    f"  MISS t{inc.tenant} {inc.kind} {inc.start} {inc.ServiceName}/"
                    f"{inc.SubAccountId}/{inc.ResourceId} excess {inc.daily_excess_usd:.0f}"
                )
            else:
                matched.add(id(hit))
        for f, a in raw:
            if id(f) in matched or f.start < burn:
                continue
            near = [
                i.kind
                for i in incidents
                if i.tenant == f.tenant and abs((f.start - i.start).days) < 20
            ]
            print(
                f"  FA t{f.tenant} {a.start}..{a.end} {a.scope} exp {a.expected_cost:.0f} "
                f"act {a.actual_cost:.0f} conf {a.confidence:.2f} "
                f"rc {f.causes[0][2] if f.causes else '-'}"
                f" near {near}"
            )


if __name__ == "__main__":
    main()

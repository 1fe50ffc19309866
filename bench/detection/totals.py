"""Development aid: false alarms + misses summed over the development lines, or the holdouts'
summary lines, in seconds (generated tenants are cached, lines run on every core).

    .venv/bin/python bench/detection/totals.py dev [--set MODULE.NAME=VALUE ...] [--lines ...]
    .venv/bin/python bench/detection/totals.py holdouts [--seed N ...] [--only NAME ...]
        [--independent [--ind-seed N ...]]

``dev`` scores CostGuard (per tenant) on the development lines (default: main, dev2..dev8, dev8 at
seed 33, dev9, dev9 at seed 22 — the eleven lines of sessions 14–15) and prints the total of false
alarms and misses and each line's pair. ``--set`` changes a module constant of
``costguard_core.detection`` (``tails.OFF_LEVEL_SHARE=0.4``) or a ``DetectorConfig`` default
(``DC.single_day_z=7.5``) in every worker before it runs, for trying a change without editing the
code. ``holdouts`` prints each holdout's F1 with its false alarms + misses, per tenant and with all
tenants in one frame, and their totals: the summary lines only (bench/README.md: a holdout's errors
are not studied). ``--seed`` scores the holdouts (or ``--only`` some of them) at other seeds too,
one line per config and seed: how far a config's F1 moves with the draw alone, for reading a line
near 0.90 (session 17), never for choosing a change. The cache is a pickle per config and seed under
``$COSTGUARD_BENCH_CACHE`` (default ``/tmp/costguard-bench-cache``); delete it after changing
generator.py or configs.py. The independent generators' configs (``independent.py``: ``ind1`` ..
``ind3``; ``independent2.py``: ``k1``, ``k2``) are lines too: at seed 7 development lines
(``--lines ind1 ind2 ind3 k1 k2``); every other seed is a holdout line, refused by ``dev``:
8 and 9 printed by ``holdouts --independent``, 10 and 11 (written in session 18, spent judging
session 19's change) by ``holdouts --independent --ind-seed 10 11``; 12 and 13 spent judging
session 20's; 14 and 15 spent judging session 21's; 16 and 17 are fresh (bases: bench/README.md
session 22 step 1).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import pickle
import sys
import time
from datetime import timedelta
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import configs  # noqa: E402
import independent  # noqa: E402
import independent2  # noqa: E402
from generator import generate  # noqa: E402
from scoring import score  # noqa: E402

DEV_LINES = (
    "main",
    "dev2",
    "dev3",
    "dev4",
    "dev5",
    "dev6",
    "dev7",
    "dev8",
    "dev8:33",
    "dev9",
    "dev9:22",
)
SEED = 20240601
#: The independent generator's lines (``independent.py``, session 17): seed 7 is studied,
#: seeds 8 and 9 are its holdout lines.
IND_DEV_SEED = 7
IND_HOLDOUT_SEEDS = (8, 9)
#: Each independent config's generator module (the same interface: ``CONFIGS``, ``generate``).
IND = {name: mod for mod in (independent, independent2) for name in mod.CONFIGS}
CACHE = Path(os.environ.get("COSTGUARD_BENCH_CACHE", "/tmp/costguard-bench-cache"))


def _apply(settings: list[str]) -> None:
    """Apply ``MODULE.NAME=VALUE`` settings (VALUE a Python literal) in this process."""
    from costguard_core.detection import config as detection_config

    for item in settings:
        target, value = item.split("=", 1)
        module, name = target.rsplit(".", 1)
        parsed = ast.literal_eval(value)  # a number, string or tuple
        if module == "DC":
            detection_config.DetectorConfig.model_fields[name].default = parsed
            detection_config.DetectorConfig.model_rebuild(force=True)
            continue
        mod = importlib.import_module(f"costguard_core.detection.{module}")
        if not hasattr(mod, name):
            raise SystemExit(f"--set {item}: costguard_core.detection.{module} has no {name}")
        setattr(mod, name, parsed)
        # Modules that imported the name (``from x import NAME``) hold their own binding.
        for other in list(sys.modules.values()):
            ours = getattr(other, "__name__", "").startswith("costguard_core.detection")
            if ours and other is not mod and getattr(other, name, None) is not None:
                setattr(other, name, parsed)


def _tenants(line: str) -> tuple[list, object]:
    name, _, seed_text = line.partition(":")
    if name in IND:  # fast to generate: not cached
        ind = IND[name].CONFIGS[name](int(seed_text) if seed_text else IND_DEV_SEED)
        return IND[name].generate(ind), ind.start + timedelta(days=ind.warmup_days)
    seed = int(seed_text) if seed_text else SEED
    path = CACHE / f"{name}_{seed}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    cfg = getattr(configs, name)(seed, False)
    result = (generate(cfg), cfg.start + timedelta(days=cfg.warmup_days - 1))
    CACHE.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(result, f)
    return result


def _is_holdout(line: str) -> bool:
    """A line ``dev`` refuses: an old-family holdout, or an independent config at a holdout seed."""
    name, _, seed_text = line.partition(":")
    if name in IND:
        return int(seed_text or IND_DEV_SEED) != IND_DEV_SEED
    return name in configs.HOLDOUTS


def _dev_line(job: tuple[str, list[str]]) -> tuple[str, int, int]:
    import run

    line, settings = job
    _apply(settings)
    tenants, burn = _tenants(line)
    s = score([i for t in tenants for i in t.incidents], run.costguard(tenants)[0], burn)
    return line, s.fp, s.fn


def _holdout(line: str) -> tuple[str, float, int, int, float, int, int]:
    import run

    tenants, burn = _tenants(line)
    incidents = [i for t in tenants for i in t.incidents]
    s = score(incidents, run.costguard(tenants)[0], burn)
    o = score(incidents, run.costguard_one_frame(tenants)[0], burn)
    return line, s.f1, s.fp, s.fn, o.f1, o.fp, o.fn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=("dev", "holdouts"))
    parser.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE")
    parser.add_argument("--lines", nargs="+", default=list(DEV_LINES))
    parser.add_argument("--seed", nargs="+", type=int, default=[SEED], help="holdouts only")
    parser.add_argument(
        "--only", nargs="+", choices=("main", *configs.HOLDOUTS), help="holdouts only"
    )
    parser.add_argument(
        "--independent",
        action="store_true",
        help="holdouts: also the independent generators' holdout lines (seeds 8 and 9)",
    )
    parser.add_argument(
        "--ind-seed",
        nargs="+",
        type=int,
        default=list(IND_HOLDOUT_SEEDS),
        help="with --independent: their seeds (default 8 9; 10-13 spent; 14 15 fresh)",
    )
    args = parser.parse_args()
    t0 = time.perf_counter()
    with Pool(os.cpu_count() or 1) as pool:
        if args.what == "dev":
            refused = [x for x in args.lines if _is_holdout(x)]
            if refused:
                parser.error(f"{', '.join(refused)}: holdouts are not studied (bench/README.md)")
            rows = pool.map(_dev_line, [(x, args.set) for x in args.lines], chunksize=1)
            fp, fn = sum(r[1] for r in rows), sum(r[2] for r in rows)
            label = " ".join(args.set) or "as committed"
            took = time.perf_counter() - t0
            print(f"{label}: {fp + fn} = {fp} false + {fn} missed ({took:.0f} s)")
            print("  " + "  ".join(f"{line} {f}+{m}" for line, f, m in rows))
            return
        names = args.only or configs.HOLDOUTS
        lines = [n if seed == SEED else f"{n}:{seed}" for n in names for seed in args.seed]
        if args.independent:
            lines += [f"{n}:{seed}" for n in IND for seed in args.ind_seed]
        results = pool.map(_holdout, lines, chunksize=1)
    for name, f1, fp, fn, of1, ofp, ofn in results:
        print(f"{name:16s} per tenant F1 {f1:.3f} ({fp}+{fn})  one frame {of1:.3f} ({ofp}+{ofn})")
    per = sum(r[2] + r[3] for r in results)
    one = sum(r[5] + r[6] for r in results)
    low = [r[0] for r in results if r[1] < 0.9]
    low_one = [r[0] for r in results if r[4] < 0.9]
    print(f"false alarms + misses: per tenant {per}, one frame {one}")
    print(f"F1 below 0.90: per tenant {low or 'none'}; one frame {low_one or 'none'}")


if __name__ == "__main__":
    main()

"""Ingest benchmark: the FOCUS reader (``read_daily``) against a bare DuckDB ``read_csv`` +
``GROUP BY`` over the same generated CUR CSV, in the same run.

``.venv/bin/python bench/ingest/run.py [--rows 1000000] [--out var/bench/cur.csv] [--keep]
[--repeat 3]``

The file repeats the real anonymised CUR sample (examples/data/aws_cur_sample_anonymous.csv,
1,281 line items) with copy ``k`` moved ``k`` days later (UsageStartDate/EndDate) and
``identity/LineItemId`` made unique (``<id>-<k>``); it is written under var/bench (git-ignored)
and deleted afterwards unless ``--keep``. Each side runs in its own subprocess; its wall time is
measured inside it (reading and aggregating, not interpreter start) and its peak RSS is the
child's own VmHWM (/proc/self/status), read at its end. The two sides alternate ``--repeat``
times (default 3) and the medians are compared; afterwards, untimed, the reader's total
BilledCost is checked against one exact DECIMAL(38, 24) sum of the file by DuckDB. Targets
(issue #4): reader time <= 2x bare DuckDB's, peak RSS <= 1.5 GB. The machine is shared, so the
load average is printed with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "aws_cur_sample_anonymous.csv"
SHIFTED = ("lineItem/UsageStartDate", "lineItem/UsageEndDate")


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def generate(rows: int, out: Path) -> int:
    """Write ``rows`` line items (whole copies of the sample, the last one cut) to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        src = f"read_csv({SAMPLE.as_posix()!r}, all_varchar = true, header = true)"
        names = [d[0] for d in con.execute(f"SELECT * FROM {src} LIMIT 0").description]
        per_copy = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
        copies = -(-rows // per_copy)
        cols = []
        for n in names:
            if n in SHIFTED:
                shifted = f"CAST({q(n)} AS TIMESTAMPTZ) + to_days(CAST(k AS INTEGER))"
                cols.append(f"strftime({shifted}, '%Y-%m-%dT%H:%M:%SZ') AS {q(n)}")
            elif n == "identity/LineItemId":
                cols.append(f"{q(n)} || '-' || k AS {q(n)}")
            else:
                cols.append(q(n))
        # Streamed, bounded: no LIMIT (which buffers) and no insertion order to keep, so a
        # 10 M-row file is written in ~1 GB whatever else the machine is doing.
        con.execute("SET memory_limit = '1GB'")
        con.execute("SET preserve_insertion_order = false")
        con.execute(
            f"CREATE TEMP TABLE sample AS SELECT *, row_number() OVER () - 1 AS _i FROM {src}"
        )
        con.execute(
            f"COPY (SELECT {', '.join(cols)} FROM range({copies}) r(k), sample "
            f"WHERE k * {per_copy} + _i < {rows}) TO {out.as_posix()!r} (FORMAT CSV, HEADER)"
        )
    return rows


def bare_duckdb(path: str) -> int:
    """The same daily grouping the reader does for a CUR, with nothing else: sniffed types."""
    with duckdb.connect() as con:
        names = [d[0] for d in con.execute(f"SELECT * FROM read_csv({path!r}) LIMIT 0").description]
        tags = [q(n) for n in names if n.startswith("resourceTags/")]
        keys = [
            f"CAST({q('lineItem/UsageStartDate')} AS DATE)",
            *(q(n) for n in ("bill/PayerAccountId", "lineItem/UsageAccountId",
                             "product/ProductName", "product/region", "lineItem/LineItemType",
                             "lineItem/CurrencyCode")),
            *tags,
        ]  # fmt: skip
        sql = (
            f"SELECT {', '.join(keys)}, sum({q('lineItem/UnblendedCost')}) "
            f"FROM read_csv({path!r}) GROUP BY ALL"
        )
        return len(con.execute(sql).fetchall())


def reader(path: str) -> int:
    from costguard_core.focus import read_daily

    return len(read_daily([path]).frame)


def verify(path: str) -> str:
    """Untimed: the reader's total BilledCost against one exact DECIMAL(38, 24) sum by DuckDB."""
    from costguard_core.focus import read_daily

    ours = sum(read_daily([path]).frame["BilledCost"])
    with duckdb.connect() as con:
        (exact,) = con.execute(
            f"SELECT sum(TRY_CAST(trim({q('lineItem/UnblendedCost')}) AS DECIMAL(38, 24))) "
            f"FROM read_csv({path!r}, all_varchar = true)"
        ).fetchone()
    if ours != exact:
        raise SystemExit(f"reader total BilledCost {ours} != exact DuckDB sum {exact}")
    return str(exact.normalize())


def peak_rss_mb() -> float:
    # VmHWM belongs to this process's own address space (new at exec); ru_maxrss from wait4
    # would also carry the parent's peak at fork time.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(mode: str, path: str) -> None:
    if mode == "generate":
        generate(int(path.split(":", 1)[0]), Path(path.split(":", 1)[1]))
        return
    if mode == "verify":
        print(json.dumps({"total": verify(path), "peak_rss_mb": peak_rss_mb()}))
        return
    start = time.perf_counter()
    groups = {"reader": reader, "duckdb": bare_duckdb}[mode](path)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "groups": groups, "peak_rss_mb": peak_rss_mb()}))


def measure(mode: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)], stdout=subprocess.PIPE, text=True
    )
    if done.returncode:
        raise SystemExit(f"{mode} failed with exit code {done.returncode}")
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "cur.csv")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side (median)")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    load = os.getloadavg()
    print(f"# ingest benchmark, {args.rows:,} rows; load average {load[0]:.2f} on "
          f"{os.cpu_count()} cores (shared machine)")  # fmt: skip
    t0 = time.perf_counter()
    measure_generate = [sys.executable, __file__, "--child", "generate", f"{args.rows}:{args.out}"]
    subprocess.run(measure_generate, check=True)  # in a child: keeps this process small
    size = args.out.stat().st_size / 1e6
    print(f"generated {args.out} ({size:,.0f} MB) in {time.perf_counter() - t0:.1f} s")
    try:
        # Alternate the two sides so that a change in machine load hits both alike.
        runs: dict[str, list[dict]] = {"duckdb": [], "reader": []}
        for _ in range(args.repeat):
            for mode in runs:
                runs[mode].append(measure(mode, args.out))
        checked = measure("verify", args.out)
    finally:
        if not args.keep:
            args.out.unlink(missing_ok=True)
    med = {m: statistics.median(r["seconds"] for r in rs) for m, rs in runs.items()}
    peak = {m: max(r["peak_rss_mb"] for r in rs) for m, rs in runs.items()}
    for name, mode in (
        ("bare DuckDB read_csv+GROUP BY", "duckdb"),
        ("read_daily (reader)", "reader"),
    ):
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs[mode])
        print(f"{name:30s} median {med[mode]:6.2f} s ({times})  peak RSS {peak[mode]:6.0f} MB  "
              f"{runs[mode][0]['groups']:,} groups")  # fmt: skip
    ratio = med["duckdb"] / med["reader"]
    print(f"reader speed = {ratio:.0%} of bare DuckDB's (target >= 50%); "
          f"reader peak RSS {peak['reader']:.0f} MB (target <= 1536 MB); "
          f"total BilledCost {checked['total']} USD = exact DuckDB DECIMAL sum; "
          f"load average now {os.getloadavg()[0]:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

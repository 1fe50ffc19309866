"""The reader's two-tier money parse equals the single exact DECIMAL(38, 24) parse.

bench/ingest/check_cast.py holds the comparison (edge cases plus random money texts: exponents,
signs, blanks, long fractions, junk); here it runs on a smaller sample so every test run checks
that the fast 64-bit path never changes a value or the too-precise verdict.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHECK = Path(__file__).resolve().parents[3] / "bench" / "ingest" / "check_cast.py"


def test_fast_money_parse_is_exact() -> None:
    out = subprocess.run(
        [sys.executable, str(CHECK), "--n", "30000", "--seed", "11"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "tiered parse == exact DECIMAL(38, 24) parse" in out.stdout

"""`costguard demo` (what `make demo` runs) end to end, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_demo_runs_the_main_job(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "costguard_cli.main", "demo", "--workdir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=240,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stdout + out.stderr + _log_tails(tmp_path / "demo" / "logs")
    text = out.stdout
    for expected in (
        "focus_sample_1000.csv",
        "aws_cur_sample_anonymous.csv",
        "koku-local-1_cur_2018-06.csv.gz",
        "SCENARIO (synthetic",
        "approved by demo-approver",
        "EXECUTED",
        "bigquery.googleapis.com",
        "make up",
    ):
        assert expected in text, expected
    assert (tmp_path / "demo" / "costguard.db").exists()


def _log_tails(log_dir: Path, lines: int = 40) -> str:
    """The last ``lines`` of each service log, so a failure in CI names its cause."""
    parts = []
    for log in sorted(log_dir.glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"\n--- {log.name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
    return "".join(parts)

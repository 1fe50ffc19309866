"""Service children die with the process that started them, even when it is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

PARENT = """
import subprocess, sys, time
from costguard_cli.procs import die_with_parent
child = subprocess.Popen(
    ["sleep", "300"], start_new_session=True,
    preexec_fn=die_with_parent if sys.argv[1] == "guarded" else None,
)
print(child.pid, flush=True)
time.sleep(300)
"""


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "Z" not in state.split()[1]


def _orphan_after_parent_kill(mode: str) -> tuple[int, bool]:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    return child, _alive(child)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_guarded_child_dies_with_killed_parent() -> None:
    _, alive = _orphan_after_parent_kill("guarded")
    assert not alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_unguarded_child_outlives_killed_parent() -> None:
    """The control: without the guard the same child is orphaned (what Stack did before)."""
    child, alive = _orphan_after_parent_kill("plain")
    try:
        assert alive
    finally:
        os.kill(child, signal.SIGKILL)

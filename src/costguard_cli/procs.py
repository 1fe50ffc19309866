"""Run CostGuard's services as local processes (what `make up` and `costguard demo` use).

Each service is started with the same module entry point its container runs, so a local run and
compose exercise one code path. Processes are children of the caller and stopped with it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
UI_APP = REPO_ROOT / "services" / "ui" / "src" / "costguard_ui" / "app.py"

#: prctl(2) option: signal to send this process when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """``preexec_fn`` for service children: ask Linux to SIGTERM the child when the process
    that started it dies, even by SIGKILL (a killed test or ``timeout``), so services are never
    orphaned holding their ports. A no-op where prctl is unavailable (not Linux)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


#: Default ports from ARCHITECTURE.md.
DEFAULT_PORTS = {
    "backend": 8000,
    "executor": 8010,
    "detective": 8011,
    "optimizer": 8012,
    "mcp": 8765,
    "ui": 8501,
}


def free_port() -> int:
    """An unused TCP port on 127.0.0.1 (for test and demo runs that must not clash)."""
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """``n`` distinct unused TCP ports on 127.0.0.1: every socket stays bound until all are
    chosen, so one stack's services never get the same port (ports chosen one at a time can
    repeat, and a service that then fails to bind leaves its health URL to its neighbour)."""
    with contextlib.ExitStack() as held:
        socks = [held.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


@dataclass
class Stack:
    """The set of service processes for one run; ``urls`` maps service name to base URL."""

    ports: dict[str, int]
    env: dict[str, str]
    log_dir: Path
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}

    def command(self, name: str) -> list[str]:
        py = sys.executable
        if name == "backend":
            return [py, "-m", "costguard_backend"]
        if name == "mcp":
            return [py, "-m", "costguard_mcp_cloud"]
        if name in ("executor", "detective", "optimizer"):
            return [py, "-m", f"costguard_agents.{name}"]
        if name == "ui":
            return [
                py,
                "-m",
                "streamlit",
                "run",
                str(UI_APP),
                "--server.headless",
                "true",
                "--server.port",
                str(self.ports["ui"]),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ]
        raise KeyError(name)

    def service_env(self, name: str) -> dict[str, str]:
        urls = self.urls
        env = {
            **os.environ,
            **self.env,
            **self.overrides.get(name, {}),
            "HOST": "127.0.0.1",
            "PORT": str(self.ports[name]),
        }
        env.setdefault("BACKEND_URL", urls["backend"])
        if "executor" in urls:
            env.setdefault("EXECUTOR_URL", urls["executor"])
        if "mcp" in urls:
            env.setdefault("MCP_URL", urls["mcp"] + "/mcp")
        return env

    def start(self, names: list[str] | None = None, *, timeout_s: float = 60.0) -> None:
        """Start the named services (default: all in ``ports``) and wait until each is healthy.

        Raises RuntimeError naming the service and its log file if one exits or never answers.
        """
        self.log_dir.mkdir(parents=True, exist_ok=True)
        names = names or list(self.ports)
        for name in names:
            # Appended: a service restarted (tests kill and restart one) keeps its earlier log.
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
            self.procs[name] = subprocess.Popen(
                self.command(name),
                env=self.service_env(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                start_new_session=True,
                # The signal fires when the *thread* that forked exits; Stack is used from the
                # main thread (CLI, tests), whose exit is the process's.
                preexec_fn=die_with_parent,
            )
        for name in names:
            self.wait_healthy(name, timeout_s=timeout_s)
        # A service that failed to bind its port exits; until it does, its health URL can be
        # answered by whatever else listens there. Every one must still be running.
        for name in names:
            if self.procs[name].poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {self.procs[name].returncode} after answering its "
                    f"health check; see {self.log_dir / name}.log"
                )

    def health_url(self, name: str) -> str:
        return self.urls[name] + ("/_stcore/health" if name == "ui" else "/healthz")

    def wait_healthy(self, name: str, *, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        proc = self.procs[name]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}; see {self.log_dir / name}.log"
                )
            try:
                if name == "mcp":
                    with socket.create_connection(("127.0.0.1", self.ports[name]), timeout=1):
                        return
                elif httpx.get(self.health_url(name), timeout=2).status_code == 200:
                    return
            except (httpx.HTTPError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(
            f"{name} not healthy after {timeout_s:.0f}s; see {self.log_dir / name}.log"
        )

    def stop(self) -> None:
        """Terminate every child (SIGTERM, then SIGKILL after 10 s)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

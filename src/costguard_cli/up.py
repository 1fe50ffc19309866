"""``costguard up``: run backend, agents, MCP server and UI as local processes (``make up``)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from costguard_cli.procs import DEFAULT_PORTS, Stack


def up(
    workdir: Annotated[
        Path, typer.Option(help="Folder for logs and the SQLite file (the demo's by default).")
    ] = Path("var/demo"),
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each service.")] = 90.0,
) -> None:
    """Start every service on its default port and keep them running until Ctrl-C or SIGTERM.

    Uses DATABASE_URL from the environment, else the SQLite file in WORKDIR (by default the one
    `costguard demo` just filled, so the dashboard opens on the demo's anomaly and audit
    trail). API keys are the backend's documented development keys unless COSTGUARD_API_KEYS is
    set (then pass the agents' key as COSTGUARD_AGENT_KEY and the dashboard's approver key as
    COSTGUARD_UI_KEY).
    """
    console = Console()
    workdir.mkdir(parents=True, exist_ok=True)
    sqlite = f"sqlite:///{(workdir / 'costguard.db').resolve()}"
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", sqlite),
        "COSTGUARD_API_KEY": os.environ.get("COSTGUARD_AGENT_KEY", "dev-agent-key"),
    }
    ui_key = os.environ.get("COSTGUARD_UI_KEY", "dev-approver-key")
    stack = Stack(
        ports=dict(DEFAULT_PORTS),
        env=env,
        log_dir=workdir / "logs",
        overrides={"ui": {"COSTGUARD_API_KEY": ui_key}},
    )
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        stack.start(
            ["backend", "mcp", "executor", "detective", "optimizer", "ui"], timeout_s=timeout
        )
        for name, url in stack.urls.items():
            console.print(f"{name:10s} {url}")
        console.print(
            f"Dashboard: [bold]{stack.urls['ui']}[/]  logs: {workdir / 'logs'}  (Ctrl-C stops)"
        )
        while all(p.poll() is None for p in stack.procs.values()):
            time.sleep(1)
        dead = [n for n, p in stack.procs.items() if p.poll() is not None]
        console.print(f"[red]stopped: {', '.join(dead)} exited; see {workdir / 'logs'}[/]")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C or SIGTERM must not interrupt the shutdown and orphan children.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt

"""``costguard demo``: the main job end to end on the bundled real exports plus the seed scenario.

Starts backend, MCP cloud-resource server and the three agents as local processes on free ports
with a fresh SQLite file, then: ingest real exports → detective → scenario (labelled synthetic)
→ detective → optimizer → approval by a named demo approver → embedded orchestrator → executor
→ MCP dry-run → inbound webhook → executed, and prints the audit trail.
"""

from __future__ import annotations

import secrets
import shutil
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from costguard_core.client import BackendClient
from costguard_core.focus import read_daily
from costguard_core.models import ActionPublic, ActionStatus
from rich.console import Console

from costguard_cli import render, scenario
from costguard_cli.procs import REPO_ROOT, Stack, free_ports

EXAMPLES = REPO_ROOT / "examples" / "data"
REAL_EXPORTS = (
    "focus_sample_1000.csv",
    "aws_cur_sample_anonymous.csv",
    "koku-local-1_cur_2018-06.csv.gz",
)
DEMO_APPROVER = "demo-approver"
BATCH = 5_000
FINAL = {ActionStatus.executed, ActionStatus.failed, ActionStatus.rejected}


def demo(
    workdir: Annotated[
        Path, typer.Option(help="Fresh folder for the SQLite file and logs.")
    ] = Path("var/demo"),
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for services and execution.")
    ] = 60.0,
) -> None:
    """Run the main job on bundled real billing exports, then the BigQuery weekend-loop scenario."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # logs and CI: keep tables readable instead of 80 columns
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    keys = {role: secrets.token_urlsafe(16) for role in ("admin", "approver", "agent", "viewer")}
    env = {
        "ENVIRONMENT": "local",
        "DATABASE_URL": f"sqlite:///{(workdir / 'costguard.db').resolve()}",
        "COSTGUARD_API_KEYS": ",".join(
            [
                f"demo-admin:admin:{keys['admin']}",
                f"{DEMO_APPROVER}:approver:{keys['approver']}",
                f"agents:agent:{keys['agent']}",
                f"demo-viewer:viewer:{keys['viewer']}",
            ]
        ),
        "COSTGUARD_API_KEY": keys["agent"],
        "ARCHESTRA_WEBHOOK_SECRET": secrets.token_urlsafe(24),
    }
    names = ("backend", "mcp", "executor", "detective", "optimizer")
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    console.rule("[bold]CostGuard demo")
    console.print(f"Fresh SQLite database: {workdir / 'costguard.db'}   logs: {workdir / 'logs'}")
    with Stack(ports=ports, env=env, log_dir=workdir / "logs") as stack:
        console.print(
            "[bold]1. Starting services[/] " + ", ".join(f"{n} :{p}" for n, p in ports.items())
        )
        stack.start(timeout_s=timeout)
        agent = BackendClient(stack.urls["backend"], keys["agent"])
        approver = BackendClient(stack.urls["backend"], keys["approver"])
        run_real_data(console, agent, stack)
        run_scenario(console, agent, approver, stack, timeout)
    console.rule("[bold green]Demo finished")
    console.print(
        "Open the dashboard: [bold]make up[/] runs backend, agents, MCP server and UI as local "
        "processes, then browse http://127.0.0.1:8501 (API docs: http://127.0.0.1:8000/docs)."
    )


def run_real_data(console: Console, agent: BackendClient, stack: Stack) -> None:
    """Ingest each bundled export and report what the detective finds in the real data."""
    console.print(
        "\n[bold]2. Ingesting real billing exports[/] "
        "(examples/data, origin and licence in NOTICE.md)"
    )
    results = []
    for name in REAL_EXPORTS:
        daily = read_daily([EXAMPLES / name])
        rows = daily.to_cost_rows()
        inserted = 0
        for i in range(0, len(rows), BATCH):
            inserted += agent.ingest_costs(f"file:{name}", rows[i : i + BATCH]).inserted
        results.append((name, daily, len(rows), inserted))
    console.print(render.ingest_table(results))
    console.print("\n[bold]3. Detective over the real data[/]")
    found = run_agent(stack, "detective")
    console.print(
        render.anomalies_table(found, "Anomalies in the real exports")
        if found
        else "No anomalies in the real exports (why: README.md, 'What the demo shows')."
    )


def run_scenario(
    console: Console, agent: BackendClient, approver: BackendClient, stack: Stack, timeout: float
) -> None:
    """Replay the seed scenario and walk its anomaly through propose → approve → execute."""
    console.print(
        "\n[bold magenta]4. SCENARIO (synthetic, added on top of the real data):[/] "
        f"a BigQuery job looping from Saturday {scenario.LOOP_START_DAY} "
        f"{scenario.LOOP_START_HOUR_UTC:02d}:00 UTC "
        f"in project {scenario.PROJECT_ID} (USD {scenario.loop_cost_per_hour()}/hour)"
    )
    all_rows = scenario.rows()
    history = [r for r in all_rows if r.ChargePeriodStart < scenario.LOOP_START_DAY]
    weekend = [r for r in all_rows if r.ChargePeriodStart >= scenario.LOOP_START_DAY]
    backfill = agent.ingest_costs(scenario.SOURCE, history)
    console.print(
        f"   backfilled {backfill.inserted} rows: the project's {scenario.HISTORY_DAYS} days "
        f"before the weekend (source '{scenario.SOURCE}')"
    )
    landed = agent.ingest_costs(scenario.SOURCE, weekend)
    console.print(
        f"   the weekend's billing data lands: {landed.inserted} rows; the detective judges "
        f"the new days (since {scenario.LOOP_START_DAY}), training on all earlier days"
    )
    found = run_agent(stack, "detective", since=str(scenario.LOOP_START_DAY))
    if not found:
        raise RuntimeError("the detective did not flag the scenario's BigQuery loop")
    console.print(render.anomalies_table(found, "Anomaly in the scenario"))
    console.print("\n[bold]5. Optimizer → approval → execution[/]")
    proposed = [
        a for a in run_agent(stack, "optimizer") if a["anomaly_id"] in {f["id"] for f in found}
    ]
    if not proposed:
        raise RuntimeError("the optimizer proposed no action for the scenario anomaly")
    action = ActionPublic.model_validate(proposed[0])
    console.print(
        f"   proposed action #{action.id}: {action.title} "
        f"(est. saving USD {action.estimated_monthly_saving_usd}/month, risk {action.risk}) "
        f"→ [yellow]{action.status}[/]"
    )
    approved = approver.approve(action.id, comment="Demo: stop the weekend loop")
    console.print(f"   approved by [bold]{approved.approved_by}[/] → {approved.status}")
    final = wait_final(approver, action.id, timeout)
    colour = "green" if final.status == ActionStatus.executed else "red"
    console.print(
        f"   [{colour} bold]{final.status.upper()}[/] "
        f"(dry-run: {render.plan_summary(final.execution_result)})"
    )
    events, _ = approver.audit_events(entity_type="action", entity_id=str(action.id))
    console.print("\n[bold]6. Audit trail[/]")
    console.print(render.audit_table(events))
    if final.status != ActionStatus.executed:
        raise RuntimeError(f"action #{action.id} ended {final.status}: {final.execution_result}")


def run_agent(stack: Stack, name: str, since: str | None = None) -> list[dict]:
    """POST /run on an agent process; returns what it created (``since``: report from that day).
    Raises RuntimeError naming the agent, the status and the agent's error body (e.g. the
    backend failure behind a 502) when the pass fails."""
    params = {"since": since} if since else None
    resp = httpx.post(stack.urls[name] + "/run", params=params, timeout=120)
    if resp.is_error:
        raise RuntimeError(
            f"the {name} agent's pass failed: HTTP {resp.status_code} {resp.text[:2000]}"
            f" (its log: {stack.log_dir / (name + '.log')})"
        )
    return list(resp.json())


def wait_final(client: BackendClient, action_id: int, timeout: float) -> ActionPublic:
    """Poll the action until it is executed, failed or rejected; RuntimeError on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        action = client.get_action(action_id)
        if action.status in FINAL:
            return action
        time.sleep(0.25)
    raise RuntimeError(f"action #{action_id} did not finish within {timeout:.0f}s")

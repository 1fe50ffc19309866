"""One approved action, start to finish: pre-checks, phased execution, rollback, verification.

1. Pre-checks, in order, each failing the action before anything changes:
   ``allowed_image_digests`` (this executor's image is allowed by the backend's policy),
   ``still_costly`` (every resource with billing still cost more than
   ``EXECUTOR_MIN_DAILY_SPEND`` on its latest billed day; a resource with no billing is noted,
   not refused), ``resource_exists`` and ``permissions`` (MCP ``check_resource``; providers
   without real execution are not contacted and say so).
2. Dry-run (``EXECUTOR_DRY_RUN``, the default): the tool's plan for every resource.
   Real: phases with health and cost checks between them (``phases.py``); a failed check or
   tool call rolls back every executed call.
3. Verification: ``check_resource`` on every resource must show the target state.

The report's ``result``: ``dry_run``, ``tool``, ``image_digest``, ``plan`` (the first
resource's), ``plans``, ``tool_calls`` (every state-changing call, undo calls included; the
backend audits each), ``prechecks``, ``phases``, ``verification``, ``summary``; on failure also
``error``, ``failed_check`` and ``rolled_back`` (+ ``rollback``), which the backend turns into
``failed`` or ``failed → rolled_back``.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import anyio
from costguard_core.models import ActionPublic, ExecutionReport
from mcp import Client

from costguard_agents.config import ExecutorSettings
from costguard_agents.executor import prechecks as pre
from costguard_agents.executor.phases import (
    CheckFailed,
    ToolCallError,
    call_tool,
    health_url_ok,
    phase_sizes,
    rollback,
    targets,
)
from costguard_agents.executor.run import EXECUTOR_NAME, idempotency_key

log = logging.getLogger("costguard_agents.executor")


class _Run:
    def __init__(self, action: ActionPublic, tool: str, settings: ExecutorSettings) -> None:
        self.action, self.tool, self.s = action, tool, settings
        self.dry = settings.EXECUTOR_DRY_RUN
        self.result: dict[str, Any] = {
            "dry_run": self.dry,
            "tool": tool,
            "image_digest": settings.IMAGE_DIGEST,
            "tool_calls": [],
            "prechecks": {},
            "plans": [],
        }
        self.executed: list[dict[str, Any]] = []
        self.baseline: dict[str, pre.Spend] = {}

    async def backend_checks(self, jobs: list[tuple[str | None, dict, str]]) -> None:
        digest = await anyio.to_thread.run_sync(pre.image_allowed, self.s)
        self.result["prechecks"]["image_digest"] = digest
        if not digest["ok"]:
            raise CheckFailed(
                "allowed_image_digests",
                f"executor image {self.s.IMAGE_DIGEST!r} is not in the policy's allowed digests",
            )
        ids: list[str | None] = [rid for rid, _, _ in jobs if rid] or [self.action.resource_id]
        spends = []
        for rid in [r for r in ids if r]:
            spend = await anyio.to_thread.run_sync(pre.recent_spend, self.s, rid)
            self.baseline[rid] = spend
            spends.append({**spend.as_json(), "costly": pre.still_costly(spend, self._floor)})
        self.result["prechecks"]["spend"] = spends
        cheap = [s["resource_id"] for s in spends if s["costly"] is False]
        if cheap:
            raise CheckFailed(
                "still_costly",
                f"no longer costly on their latest billed day (> {self._floor}): {cheap}",
                spends,
            )

    @property
    def _floor(self) -> Any:
        return self.s.EXECUTOR_MIN_DAILY_SPEND

    async def check(self, client: Client, args: dict[str, Any]) -> dict[str, Any]:
        return await call_tool(client, "check_resource", {"tool": self.tool, "arguments": args})

    async def resource_checks(self, client: Client, jobs: list) -> None:
        found = []
        for rid, args, _ in jobs:
            chk = await self.check(client, args)
            found.append({"resource": rid, **chk})
            if chk["checked"] and chk["exists"] is False:
                raise CheckFailed("resource_exists", f"{rid or self.tool}: resource not found", chk)
            if chk["checked"] and chk["permitted"] is False:
                raise CheckFailed("permissions", f"{rid}: {chk['permission_probe']} denied", chk)
        self.result["prechecks"]["resources"] = found

    async def run_one(self, client: Client, rid: str | None, args: dict, key: str) -> None:
        record = {"tool": self.tool, "resource": rid, "idempotency_key": key, "dry_run": self.dry}
        try:
            plan = await call_tool(
                client, self.tool, {**args, "dry_run": self.dry, "idempotency_key": key}
            )
        except ToolCallError as exc:
            self.result["tool_calls"].append({**record, "ok": False, "error": str(exc)})
            raise
        outcome = plan.get("outcome") or {}
        record |= {
            "ok": True,
            "operation": plan.get("operation"),
            "replayed": plan.get("replayed", False),
            "undo": outcome.get("undo"),
            "undo_note": outcome.get("undo_note"),
            "before": outcome.get("before"),
            "after": outcome.get("after"),
        }
        self.result["tool_calls"].append(record)
        self.result["plans"].append(plan)
        if plan.get("executed"):
            self.executed.append(record)

    async def after_phase(self, client: Client, done: list, phase: list) -> dict[str, Any]:
        states = []
        for rid, args, _ in done:
            chk = await self.check(client, args)
            states.append({"resource": rid, "done": chk["done"], "state": chk["state"]})
            if chk["checked"] and chk["done"] is False:
                raise CheckFailed("health", f"{rid} is not in the target state: {chk['state']}")
        health: dict[str, Any] = {"resources": states}
        url = self.action.parameters.get("health_check_url")
        if url:
            health["service"] = await anyio.to_thread.run_sync(
                health_url_ok, str(url), self.s.HEALTH_CHECK_TIMEOUT_S
            )
            if not health["service"]["ok"]:
                raise CheckFailed("health", f"service health check failed: {health['service']}")
        for rid, _, _ in phase:
            if rid in self.baseline:
                now = await anyio.to_thread.run_sync(pre.recent_spend, self.s, rid)
                if pre.spend_rose(self.baseline[rid], now):
                    raise CheckFailed("cost_signal", f"{rid}: spend rose to {now.as_json()}")
        return health

    async def execute(self, client: Client, jobs: list) -> None:
        await self.resource_checks(client, jobs)
        if self.dry:
            for rid, args, key in jobs:
                await self.run_one(client, rid, args, key)
            return
        phases: list[dict[str, Any]] = []
        self.result["phases"] = phases
        start = 0
        for n, size in enumerate(phase_sizes(len(jobs)), start=1):
            for rid, args, key in jobs[start:size]:
                await self.run_one(client, rid, args, key)
            entry = {"phase": n, "resources": [j[0] for j in jobs[start:size]], "cumulative": size}
            phases.append(entry)
            entry["health"] = await self.after_phase(client, jobs[:size], jobs[start:size])
            start = size
        final = []
        for rid, args, _ in jobs:
            chk = await self.check(client, args)
            final.append({"resource": rid, "done": chk["done"], "state": chk["state"]})
            if chk["checked"] and chk["done"] is not True:
                raise CheckFailed("end_state", f"{rid} did not reach the target state", final)
        self.result["verification"] = final


async def build_report(
    action: ActionPublic, tool: str, settings: ExecutorSettings
) -> ExecutionReport:
    """Run the action (see the module doc) and return the report to send; never raises for a
    failure of the action itself (that is a ``failed`` report)."""
    run = _Run(action, tool, settings)
    key = idempotency_key(action)
    result = run.result
    try:
        work = targets(tool, action.parameters)
        one = len(work) == 1
        jobs = [(rid, args, key if one else f"{key}-{i}") for i, (rid, args) in enumerate(work)]
        await run.backend_checks(jobs)
        failure: Exception | None = None
        async with Client(settings.MCP_URL, read_timeout_seconds=settings.MCP_TIMEOUT_S) as client:
            try:
                await run.execute(client, jobs)
            except Exception as exc:  # kept, not raised through the client's task group
                failure = exc
                if run.executed:
                    done, records = await rollback(client, run.executed)
                    result["rollback"] = records
                    result["rolled_back"] = done
                    result["tool_calls"].extend(r for r in records if r.get("tool"))
        if failure is not None:
            raise failure
    except CheckFailed as exc:
        result |= {"error": str(exc), "failed_check": exc.check}
    except (ToolCallError, ValueError) as exc:
        result |= {"error": str(exc)}
    except Exception as exc:  # transport or protocol failure: the action's failure, reported
        log.exception("executing action %s failed", action.id)
        result |= {"error": f"MCP call to {settings.MCP_URL} failed: {type(exc).__name__}: {exc}"}
    if result["plans"]:
        result["plan"] = result["plans"][0]
        result["summary"] = "; ".join(p.get("summary", "") for p in result["plans"])[:2000]
    status: Literal["executed", "failed"] = "failed" if "error" in result else "executed"
    if status == "failed":
        result.setdefault("rolled_back", False)
    return ExecutionReport(
        action_id=action.id, status=status, result=result, executor=EXECUTOR_NAME
    )

"""Phased execution of one approved action over its resources, with rollback.

An action names one resource (its tool arguments) or several (``parameters.resource_ids``: the
tool's id argument, e.g. ``resource_id`` or ``volume_id``, is set to each in turn). Real
execution goes in phases covering 10 %, 50 % and 100 % of the resources (rounded up, repeats
dropped: 10 resources → 1, 5, 10; one resource → a single phase). After each phase:

* health: ``check_resource`` on every resource done so far must report it in the tool's target
  state (e.g. ``stopped`` after ``stop_instance``), and ``parameters.health_check_url``, when
  given, must answer 2xx (the service those resources serve is still up);
* cost: for the phase's resources, a billed day newer than the pre-check's must not cost more
  (``prechecks.spend_rose``).

A failed check undoes every executed call, newest first, through the ``undo`` call each real
tool call returned (idempotency key ``<call key>-undo``). ``rolled_back`` is True only when every
executed call had an undo and every undo succeeded. Dry-run plans every resource and changes
nothing, so it has no phases.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
from mcp import Client

#: The tool argument that names the resource, for actions over several resources.
ID_ARGUMENT = {
    "stop_instance": "resource_id",
    "start_instance": "resource_id",
    "rightsize_instance": "resource_id",
    "delete_idle_volume": "volume_id",
    "set_lambda_limits": "function_name",
    "cancel_bigquery_job": "job_id",
    "halt_vultr_instance": "instance_id",
}
#: Action parameters the executor reads itself and never passes to a tool.
EXECUTOR_PARAMETERS = frozenset({"resource_ids", "health_check_url", "environment", "dry_run"})
PHASE_SHARES = (0.1, 0.5, 1.0)


class ToolCallError(Exception):
    """The MCP server answered the tool call with an error result (``is_error``)."""


class CheckFailed(Exception):
    """A pre-check, health, cost or end-state check failed: ``check`` names it."""

    def __init__(self, check: str, message: str, detail: Any = None) -> None:
        super().__init__(f"{check}: {message}")
        self.check, self.message, self.detail = check, message, detail


def targets(tool: str, parameters: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """``[(resource, tool arguments)]`` for the action; raises ``ValueError`` when
    ``resource_ids`` is given for a tool with no id argument."""
    base = {k: v for k, v in parameters.items() if k not in EXECUTOR_PARAMETERS}
    ids = [str(r) for r in parameters.get("resource_ids") or []]
    if not ids:
        arg = ID_ARGUMENT.get(tool)
        return [(str(base[arg]) if arg and base.get(arg) else None, base)]
    arg = ID_ARGUMENT.get(tool)
    if arg is None:
        raise ValueError(f"{tool} acts on one resource; resource_ids is not allowed")
    return [(rid, {**base, arg: rid}) for rid in ids]


def phase_sizes(n: int) -> list[int]:
    """Cumulative resource counts per phase: ceil(10 %), ceil(50 %), all; repeats dropped."""
    sizes: list[int] = []
    for share in PHASE_SHARES:
        size = max(1, math.ceil(n * share))
        if not sizes or size > sizes[-1]:
            sizes.append(size)
    return sizes


async def call_tool(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """One MCP tool call; its structured content, or ``ToolCallError`` on an error result."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content).strip()
        raise ToolCallError(text or f"tool {tool} failed without a message")
    if result.structured_content is None:
        raise ToolCallError(f"tool {tool} returned no structured content")
    return result.structured_content


def health_url_ok(url: str, timeout_s: float) -> dict[str, Any]:
    """GET the service's health URL: ``{"url", "ok", "status"|"error"}``."""
    try:
        resp = httpx.get(url, timeout=timeout_s)
    except httpx.HTTPError as exc:
        return {"url": url, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"url": url, "ok": resp.is_success, "status": resp.status_code}


async def rollback(
    client: Client, executed: list[dict[str, Any]]
) -> tuple[bool, list[dict[str, Any]]]:
    """Undo ``executed`` calls newest first (each under its own key + ``-undo``, so a repeated
    rollback is a replay); ``(all undone, one record per call)``."""
    records: list[dict[str, Any]] = []
    complete = True
    for call in reversed(executed):
        undo = call.get("undo")
        if not undo:
            complete = False
            note = call.get("undo_note") or "the tool returned no undo call"
            records.append({"undo_of": call["tool"], "ok": False, "error": note})
            continue
        key = f"{call['idempotency_key']}-undo"
        args = {**undo["arguments"], "dry_run": False, "idempotency_key": key}
        try:
            plan = await call_tool(client, undo["tool"], args)
        except Exception as exc:  # keep undoing the rest; report this one as not undone
            complete = False
            error = f"{type(exc).__name__}: {exc}"
            records.append(
                {"undo_of": call["tool"], "tool": undo["tool"], "ok": False, "error": error}
            )
            continue
        outcome = plan.get("outcome") or {}
        records.append(
            {
                "undo_of": call["tool"],
                "tool": undo["tool"],
                "idempotency_key": args["idempotency_key"],
                "dry_run": False,
                "ok": True,
                "operation": plan.get("operation"),
                "before": outcome.get("before"),
                "after": outcome.get("after"),
            }
        )
    return complete, records

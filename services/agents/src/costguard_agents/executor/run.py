"""What the executor does with one approved action: plan it through the MCP server, report back.

The flow is ``check_executable`` (synchronous, before the 202) → ``plan_action`` (MCP tool call,
always ``dry_run=True`` in this release) → ``deliver_report`` (signed webhook, retried while the
backend is unreachable or answering 5xx/429).
"""

from __future__ import annotations

import logging
from typing import Any, get_args

import httpx
from costguard_core.client import BackendClient, BackendError
from costguard_core.models import ActionPublic, ActionStatus, ActionType, ExecutionReport
from mcp import Client
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from costguard_agents.config import ExecutorSettings

log = logging.getLogger("costguard_agents.executor")

EXECUTOR_NAME = "executor-agent"
#: MCP tool that carries out each action type (the tools are named after the action types).
TOOLS: dict[str, str] = {t: t for t in get_args(ActionType)}
EXECUTABLE = frozenset({ActionStatus.approved, ActionStatus.executing})


class NotExecutableError(Exception):
    """The action may not be executed: wrong status or an action type with no tool."""


class ToolCallError(Exception):
    """The MCP server answered the tool call with an error result (``is_error``)."""


def check_executable(action: ActionPublic) -> str:
    """Return the MCP tool name for ``action``; raise ``NotExecutableError`` if its status is not
    ``approved``/``executing`` or its ``action_type`` has no tool."""
    if action.status not in EXECUTABLE:
        raise NotExecutableError(
            f"action {action.id} is {action.status.value}; only approved or executing actions run"
        )
    tool = TOOLS.get(action.action_type)
    if tool is None:
        raise NotExecutableError(f"action {action.id}: no tool for type {action.action_type!r}")
    return tool


async def plan_action(action: ActionPublic, tool: str, *, mcp_url: str, timeout_s: float) -> dict:
    """Call ``tool`` with the action's ``parameters`` and ``dry_run=True`` (forced: a parameter
    asking for real execution is overridden). Returns the tool's structured content (the
    CloudCallPlan dict). Raises ``ToolCallError`` on an error result; transport errors propagate.
    """
    arguments: dict[str, Any] = {**action.parameters, "dry_run": True}
    async with Client(mcp_url, read_timeout_seconds=timeout_s) as client:
        result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content).strip()
        raise ToolCallError(text or f"tool {tool} failed without a message")
    if result.structured_content is None:
        raise ToolCallError(f"tool {tool} returned no structured content")
    return result.structured_content


async def build_report(
    action: ActionPublic, tool: str, settings: ExecutorSettings
) -> ExecutionReport:
    """Run the tool and turn the outcome into a report: ``executed`` with ``{"dry_run": true,
    "tool", "plan"}``, or ``failed`` with ``{"dry_run": true, "tool", "error"}``."""
    try:
        plan = await plan_action(
            action, tool, mcp_url=settings.MCP_URL, timeout_s=settings.MCP_TIMEOUT_S
        )
    except ToolCallError as exc:
        return _report(action, "failed", {"dry_run": True, "tool": tool, "error": str(exc)})
    except Exception as exc:  # any transport or protocol failure is the action's failure
        log.exception("MCP call for action %s failed", action.id)
        error = f"MCP call to {settings.MCP_URL} failed: {type(exc).__name__}: {exc}"
        return _report(action, "failed", {"dry_run": True, "tool": tool, "error": error})
    return _report(action, "executed", {"dry_run": True, "tool": tool, "plan": plan})


def _report(action: ActionPublic, status: str, result: dict) -> ExecutionReport:
    return ExecutionReport(
        action_id=action.id, status=status, result=result, executor=EXECUTOR_NAME
    )


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, BackendError) and (exc.status_code >= 500 or exc.status_code == 429)


def deliver_report(report: ExecutionReport, settings: ExecutorSettings) -> dict[str, Any]:
    """POST the signed report to the backend webhook; returns its answer
    (``{"action_id", "status", "changed"}``). Retries connection errors, 5xx and 429 with
    exponential backoff up to ``REPORT_ATTEMPTS`` tries (each try is signed afresh, so its
    timestamp stays inside the 5-minute window); then, or on any other 4xx, raises the last
    ``httpx.TransportError``/``BackendError``."""
    retrying = Retrying(
        stop=stop_after_attempt(settings.REPORT_ATTEMPTS),
        wait=wait_exponential(multiplier=settings.REPORT_BACKOFF_S, max=30),
        retry=retry_if_exception(_transient),
        reraise=True,
    )
    with BackendClient(settings.BACKEND_URL, timeout=settings.BACKEND_TIMEOUT_S) as client:
        for attempt in retrying:
            with attempt:
                return client.report_execution(report, secret=settings.ARCHESTRA_WEBHOOK_SECRET)
    raise AssertionError("unreachable: tenacity either returns or reraises")

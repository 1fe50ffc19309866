"""Executor agent: turns an approved action into an MCP tool call (dry-run) and reports it."""

from costguard_agents.executor.app import create_app
from costguard_agents.executor.flow import build_report
from costguard_agents.executor.run import check_executable, deliver_report

__all__ = ["build_report", "check_executable", "create_app", "deliver_report"]

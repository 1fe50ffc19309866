"""Feedback is used: a loop marked not_an_issue is not raised again in the same shape.

Backend and detective run as their own processes. The scenario's weekend loop recurs two weeks
later (same job, same cost); the detective raises it only while no answer says otherwise.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from costguard_agents.detective import costs_frame
from costguard_core.client import BackendClient
from costguard_core.detection import detect
from costguard_core.models import CostRow

from costguard_cli import scenario

REPEAT_AFTER = timedelta(days=14)  # past the detector's same-leaf cooldown, same weekdays


def repeated_weekend() -> list[CostRow]:
    """The scenario's last 12 normal days and its loop weekend again, 14 days later."""
    first = scenario.LOOP_START_DAY - timedelta(days=12)
    return [
        r.model_copy(update={"ChargePeriodStart": r.ChargePeriodStart + REPEAT_AFTER})
        for r in scenario.rows()
        if r.ChargePeriodStart >= first
    ]


def run_detective(stack, since) -> list[dict]:
    resp = httpx.post(stack.urls["detective"] + "/run", params={"since": str(since)}, timeout=120)
    return resp.raise_for_status().json()


def test_not_an_issue_suppresses_the_same_shape(tmp_path: Path, make_stack, keys) -> None:
    db = f"sqlite:///{tmp_path / 'f.db'}"
    second = scenario.LOOP_START_DAY + REPEAT_AFTER
    with make_stack(tmp_path, db, services=("backend", "detective")) as stack:
        stack.start()
        agent = BackendClient(stack.urls["backend"], keys["agent"])
        approver = BackendClient(stack.urls["backend"], keys["approver"])
        agent.ingest_costs(scenario.SOURCE, scenario.rows())
        [first] = run_detective(stack, scenario.LOOP_START_DAY)
        agent.ingest_costs(scenario.SOURCE, repeated_weekend())

        # Control: with no answer on record, the repeat is an anomaly of the same shape.
        frame = _frame(agent)
        repeat = [a for a in detect(frame, since=second) if a.start == second]
        assert repeat and repeat[0].scope == first["scope"]

        answer = approver.submit_feedback(first["id"], "not_an_issue", "weekend rollup, expected")
        assert (answer.actor, answer.kind) == ("bob-approver", "not_an_issue")
        assert [a for a in run_detective(stack, second) if a["start"] == str(second)] == []
        assert agent.list_anomalies(start_from=second)[1] == 0


def _frame(client: BackendClient):
    return costs_frame(client.all_costs())

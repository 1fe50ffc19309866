"""The dashboard driven through Streamlit's AppTest against a real backend process."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from costguard_core.client import BackendClient
from costguard_core.models import ActionStatus, ExecutionReport
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "src" / "costguard_ui" / "app.py"
#: The backend's development webhook secret (accepted with ENVIRONMENT=local).
WEBHOOK_SECRET = "dev-webhook-secret"
Seed = Callable[..., tuple]


def load() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rows_by_id(at: AppTest, column: str) -> dict:
    """``{id: row}`` over the page's dataframes that have ``column`` (the table's marker)."""
    return {
        r["id"]: r
        for df in at.dataframe
        if column in df.value.columns
        for r in df.value.to_dict("records")
    }


def test_banner_metrics_and_tables_match_the_api(ui_env: str, seed: Seed, approver) -> None:
    anomaly, action = seed(severity="critical", impact=2500.0)
    at = load()

    open_anoms, open_count = approver.list_anomalies(status="open", limit=500)
    total = sum(a.impact_usd for a in open_anoms)
    noun = "anomaly" if open_count == 1 else "anomalies"
    assert [e.value for e in at.error] == [f"{open_count} open {noun} — ${total:,.2f} impact"]

    metrics = {m.label: m.value for m in at.metric}
    _, pending = approver.list_actions(status="pending_approval", limit=1)
    assert metrics["Open anomalies"] == str(open_count)
    assert metrics["Open impact (USD)"] == f"${total:,.2f}"
    assert metrics["Pending approvals"] == str(pending)

    row = rows_by_id(at, "severity")[anomaly.id]
    assert row["severity"] == "critical"
    assert row["impact_usd"] == 2500.0
    assert row["top_root_cause"] == f"Amazon EC2 / {action.resource_id} (80%)"
    actions = rows_by_id(at, "title")
    assert actions[action.id]["status"] == "pending_approval"
    assert actions[action.id]["estimated_monthly_saving_usd"] == "321.09"
    assert at.button(key=f"approve-{action.id}") is not None


def test_approve_then_a_stale_second_approval_shows_the_state(
    ui_env: str, seed: Seed, approver: BackendClient
) -> None:
    _, action = seed()
    first, second = load(), load()  # two approvers looking at the same pending action

    first.button(key=f"approve-{action.id}").click().run()
    assert not first.exception
    assert approver.get_action(action.id).status == ActionStatus.approved
    assert approver.get_action(action.id).approved_by == "approver"
    assert f"Action {action.id} is now 'approved' (by approver)." in [
        s.value for s in first.success
    ]
    assert f"approve-{action.id}" not in [b.key for b in first.button]
    assert rows_by_id(first, "title")[action.id]["approved_by"] == "approver"

    second.button(key=f"approve-{action.id}").click().run()
    assert not second.exception
    errors = [e.value for e in second.error]
    assert any(f"Cannot approve action {action.id}: it is already 'approved'" in e for e in errors)
    assert approver.get_action(action.id).status == ActionStatus.approved


def test_reject_needs_a_reason_then_records_it(
    ui_env: str, seed: Seed, approver: BackendClient
) -> None:
    _, action = seed(severity="low", impact=10.0)
    at = load()

    at.button(key=f"reject-{action.id}").click().run()
    assert f"Cannot reject action {action.id}: give a reason first." in [e.value for e in at.error]
    assert approver.get_action(action.id).status == ActionStatus.pending_approval

    at.text_input(key=f"reason-{action.id}").input("instance is the nightly batch host")
    at.button(key=f"reject-{action.id}").click().run()
    rejected = approver.get_action(action.id)
    assert rejected.status == ActionStatus.rejected
    assert rejected.rejection_reason == "instance is the nightly batch host"
    assert rejected.rejected_by == "approver"


def test_executed_action_gets_a_badge_and_its_audit_trail(
    ui_env: str, seed: Seed, approver: BackendClient
) -> None:
    _, action = seed(saving="45.50")
    approver.approve(action.id)
    approver.report_execution(
        ExecutionReport(action_id=action.id, status="executed",
                        result={"summary": "would call ec2:StopInstances", "dry_run": True}),
        secret=WEBHOOK_SECRET,
    )  # fmt: skip
    at = load()

    assert ":green-badge[Executed]" in [m.value for m in at.markdown]
    assert any(
        f"#{action.id} " in m.value and "would call ec2:StopInstances" in m.value
        for m in at.markdown
    )
    executed, _ = approver.list_actions(status="executed", limit=500)
    savings = sum((a.estimated_monthly_saving_usd for a in executed), Decimal(0))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Est. monthly savings (USD)"] == f"${savings:,.2f}"

    at.selectbox(key="audit-action").select(action.id).run()
    trail = [df.value for df in at.dataframe if "actor" in df.value.columns][0]
    assert list(trail["to_status"])[-1] == "executed"
    assert "approved" in list(trail["to_status"])
    assert "approver" in list(trail["actor"])


def test_empty_backend_says_so(monkeypatch: pytest.MonkeyPatch, empty_backend_url: str) -> None:
    monkeypatch.setenv("BACKEND_URL", empty_backend_url)
    at = load()
    assert [s.value for s in at.success] == ["No open anomalies"]
    assert not at.error and not at.warning
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open anomalies"] == "0" and metrics["Executed actions"] == "0"
    assert metrics["Est. monthly savings (USD)"] == "$0.00"


def test_unreachable_backend_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")
    at = load()
    assert at.error[0].value.startswith("Cannot reach the backend at http://127.0.0.1:9")

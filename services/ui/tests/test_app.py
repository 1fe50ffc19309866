"""The dashboard's pages driven through Streamlit's AppTest against a real backend process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from costguard_core.client import BackendClient
from costguard_core.models import ActionStatus, ExecutionReport
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[1] / "src" / "costguard_ui" / "app.py"
#: The backend's development webhook secret (accepted with ENVIRONMENT=local).
WEBHOOK_SECRET = "dev-webhook-secret"
APPROVER_KEY, VIEWER_KEY = "dev-approver-key", "dev-viewer-key"
Seed = Callable[..., tuple]


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def load(page: str | None = None, anomaly: str | None = None) -> AppTest:
    """The app after its first run; then ``page`` (``views/<name>.py``), ``?anomaly=`` set."""
    at = ok(AppTest.from_file(str(APP), default_timeout=30).run())
    if anomaly:
        at.query_params["anomaly"] = anomaly
    if page:
        at.switch_page(page)
        ok(at.run())
    return at


def rows_by_id(at: AppTest, column: str) -> dict:
    """``{id: row}`` over the page's dataframes that have ``column`` (the table's marker)."""
    return {
        r["id"]: r
        for df in at.dataframe
        if column in df.value.columns
        for r in df.value.to_dict("records")
    }


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def test_overview_figures_match_the_api(ui_env: str, seed: Seed, approver) -> None:
    anomaly, action = seed(severity="critical", impact=2500.0, costs=True)
    at = load()

    open_anoms, open_count = approver.list_anomalies(status="open", limit=500)
    total = sum(a.impact_usd for a in open_anoms)
    noun = "anomaly" if open_count == 1 else "anomalies"
    assert f"{open_count} open {noun} — ${total:,.2f} impact" in texts(at.error)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Critical"] == str(sum(a.severity == "critical" for a in open_anoms))
    totals = httpx.get(
        f"{ui_env}/api/v1/savings", headers={"Authorization": f"Bearer {APPROVER_KEY}"}
    ).json()["totals"]
    usd = [Decimal(t["realized"]) for t in totals if t["currency"] == "USD"]
    assert metrics["Realized (USD)"] == (f"${usd[0]:,.2f}" if usd else "none measured yet")
    _, pending = approver.list_actions(status="pending_approval", limit=1)
    states = next(df.value for df in at.dataframe if "actions" in df.value.columns)
    by_state = dict(zip(states["status"], states["actions"], strict=True))
    assert by_state["pending_approval"] == pending
    assert rows_by_id(at, "severity")[anomaly.id]["top_root_cause"].startswith("Amazon EC2 / ")
    # Spend: the seeded scope's rows in the 30 days ending on the newest stored day.
    spend = next(df.value for df in at.dataframe if "EffectiveCost" in df.value.columns)
    assert {"AWS"} <= set(spend["ProviderName"]) and "Amazon EC2" in set(spend["ServiceName"])
    assert len(at.get("plotly_chart")) == 1


def test_anomaly_page_chart_causes_and_approve_with_comment(
    ui_env: str, seed: Seed, approver: BackendClient
) -> None:
    anomaly, action = seed(costs=True)
    at = load("views/anomaly.py", anomaly=anomaly.id)

    assert at.selectbox(key="anomaly-select").value == anomaly.id
    assert len(at.get("plotly_chart")) == 1
    assert any("reference band" in c.value for c in at.caption)
    causes = next(df.value for df in at.dataframe if "share" in df.value.columns)
    assert list(causes["share"]) == ["80%", "20%"]
    assert list(causes["ResourceId"])[0] == action.resource_id
    assert any("risk low" in m.value and "$321.09/month" in m.value for m in at.markdown)

    at.text_input(key=f"comment-{action.id}").input("approved after checking the job owner")
    ok(at.button(key=f"approve-{action.id}").click().run())
    done = approver.get_action(action.id)
    assert (done.status, done.approved_by) == (ActionStatus.approved, "approver")
    assert f"Action {action.id} is now 'approved' (by approver)." in texts(at.success)
    assert f"approve-{action.id}" not in [b.key for b in at.button]
    events, _ = approver.audit_events(entity_type="action", entity_id=str(action.id))
    approved = next(e for e in events if e.to_status == "approved")
    assert "approved after checking the job owner" in str(approved.detail)
    timeline = [df.value for df in at.dataframe if "to_status" in df.value.columns][0]
    assert list(timeline["to_status"])[-1] == "approved"


def test_hourly_anomaly_shows_when_it_was_raised_daily_shows_nothing(
    ui_env: str, seed: Seed
) -> None:
    hourly, _ = seed(detected_at=datetime(2026, 10, 3, 4, tzinfo=UTC))
    daily, _ = seed()
    raised = "raised 2026-10-03 04:00 UTC (hourly)"
    overview = rows_by_id(load(), "severity")
    assert overview[hourly.id]["detected_at"] == raised
    assert overview[daily.id]["detected_at"] == ""
    at = load("views/anomaly.py", anomaly=hourly.id)
    assert f"UTC days {hourly.start} → {hourly.end}; {raised}; id {hourly.id}" in texts(at.caption)
    at = load("views/anomaly.py", anomaly=daily.id)
    assert f"UTC days {daily.start} → {daily.end}; id {daily.id}" in texts(at.caption)
    assert not any("raised" in c for c in texts(at.caption))


def test_stale_second_approval_shows_the_state(
    ui_env: str, seed: Seed, approver: BackendClient
) -> None:
    anomaly, action = seed()
    first = load("views/anomaly.py", anomaly=anomaly.id)
    second = load("views/anomaly.py", anomaly=anomaly.id)
    ok(first.button(key=f"approve-{action.id}").click().run())
    ok(second.button(key=f"approve-{action.id}").click().run())
    assert any(
        f"Cannot approve action {action.id}: it is already 'approved'" in e
        for e in texts(second.error)
    )


def test_reject_needs_a_reason_then_records_it(
    ui_env: str, seed: Seed, approver: BackendClient
) -> None:
    anomaly, action = seed(severity="low", impact=10.0)
    at = load("views/anomaly.py", anomaly=anomaly.id)

    ok(at.button(key=f"reject-{action.id}").click().run())
    assert f"Cannot reject action {action.id}: give a reason first." in texts(at.error)
    assert approver.get_action(action.id).status == ActionStatus.pending_approval

    at.text_input(key=f"comment-{action.id}").input("instance is the nightly batch host")
    ok(at.button(key=f"reject-{action.id}").click().run())
    rejected = approver.get_action(action.id)
    assert rejected.status == ActionStatus.rejected
    assert rejected.rejection_reason == "instance is the nightly batch host"
    assert rejected.rejected_by == "approver"


def test_viewer_sees_everything_but_the_review_buttons(
    ui_env: str, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    anomaly, action = seed()
    monkeypatch.setenv("COSTGUARD_API_KEY", VIEWER_KEY)
    at = load("views/anomaly.py", anomaly=anomaly.id)
    keys = [b.key for b in at.button]
    assert f"approve-{action.id}" not in keys and f"reject-{action.id}" not in keys
    assert "Awaiting approval by an approver." in texts(at.caption)
    assert "feedback-accurate" in keys
    assert any("as **viewer**" in c.value for c in at.sidebar.caption)  # GET /api/v1/me
    actions_page = load("views/actions.py")
    assert f"approve-{action.id}" not in [b.key for b in actions_page.button]


def test_feedback_is_recorded(ui_env: str, seed: Seed, approver: BackendClient) -> None:
    anomaly, _ = seed()
    at = load("views/anomaly.py", anomaly=anomaly.id)
    at.text_input(key=f"feedback-comment-{anomaly.id}").input("quarter-end batch, expected")
    ok(at.button(key="feedback-planned_activity").click().run())
    assert "Feedback recorded: planned activity." in texts(at.success)
    [answer] = [f for f in approver.list_feedback() if f.anomaly_id == anomaly.id]
    assert (answer.kind, answer.actor) == ("planned_activity", "approver")


def test_executed_action_badge_and_timeline(
    ui_env: str, seed: Seed, approver: BackendClient
) -> None:
    anomaly, action = seed(saving="45.50")
    approver.approve(action.id)
    approver.report_execution(
        ExecutionReport(action_id=action.id, status="executed",
                        result={"summary": "would call ec2:StopInstances", "dry_run": True}),
        secret=WEBHOOK_SECRET,
    )  # fmt: skip
    at = load("views/anomaly.py", anomaly=anomaly.id)
    assert ":green-badge[Executed]" in texts(at.markdown)
    assert "Execution: would call ec2:StopInstances" in texts(at.caption)
    timeline = [df.value for df in at.dataframe if "to_status" in df.value.columns][0]
    assert list(timeline["to_status"])[-3:] == ["approved", "executing", "executed"]

    overview = load()
    executed, _ = approver.list_actions(status="executed", limit=500)
    savings = sum((a.estimated_monthly_saving_usd for a in executed), Decimal(0))
    metrics = {m.label: m.value for m in overview.metric}
    assert metrics["Estimated, executed (USD/month)"] == f"${savings:,.2f}"

    actions_page = load("views/actions.py")
    actions_page.selectbox(key="audit-action").select(action.id)
    ok(actions_page.run())
    trail = [df.value for df in actions_page.dataframe if "actor" in df.value.columns][-1]
    assert list(trail["to_status"])[-1] == "executed" and "approver" in list(trail["actor"])


def stale(at: AppTest, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """``at`` as a tab whose session lost its login (e.g. the UI restarted) with no key in the
    environment to sign in again from: its buttons are still on screen."""
    monkeypatch.delenv("COSTGUARD_API_KEY")
    del at.session_state["costguard_login"]
    return at


EXPIRED = "Your session has expired — sign in again."


def test_stale_tab_approve_and_reject_ask_to_sign_in_without_calling_the_api(
    ui_env: str, seed: Seed, approver: BackendClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    anomaly, action = seed()
    at = load("views/anomaly.py", anomaly=anomaly.id)
    at.text_input(key=f"comment-{action.id}").input("a reason")
    ok(stale(at, monkeypatch).button(key=f"approve-{action.id}").click().run())
    assert EXPIRED in texts(at.warning)
    assert at.text_input(key="login-key")  # the sign-in page, not the anomaly page
    ok(at.run())  # the next run: the message was shown once
    assert EXPIRED not in texts(at.warning)
    assert approver.get_action(action.id).status == ActionStatus.pending_approval

    monkeypatch.setenv("COSTGUARD_API_KEY", APPROVER_KEY)  # a fresh tab, signed in
    at = load("views/actions.py")
    at.text_input(key=f"comment-{action.id}").input("a reason")
    ok(stale(at, monkeypatch).button(key=f"reject-{action.id}").click().run())
    assert EXPIRED in texts(at.warning)
    assert approver.get_action(action.id).status == ActionStatus.pending_approval


def test_stale_tab_feedback_asks_to_sign_in_without_calling_the_api(
    ui_env: str, seed: Seed, approver: BackendClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    anomaly, _ = seed()
    at = load("views/anomaly.py", anomaly=anomaly.id)
    ok(stale(at, monkeypatch).button(key="feedback-accurate").click().run())
    assert EXPIRED in texts(at.warning)
    assert at.text_input(key="login-key")
    assert not [f for f in approver.list_feedback() if f.anomaly_id == anomaly.id]


@pytest.mark.parametrize("page", ["overview", "anomaly", "actions", "monitors"])
def test_page_without_a_login_asks_to_sign_in(page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page run with no login (app.py normally shows the sign-in page first) says so and
    calls nothing: the backend address here would answer any call with an error."""
    for name in ("COSTGUARD_API_KEY", "COSTGUARD_UI_TRUST_SSO_HEADER", "COSTGUARD_UI_SSO_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")
    at = ok(AppTest.from_file(str(APP.parent / "views" / f"{page}.py"), default_timeout=30).run())
    assert texts(at.warning) == [EXPIRED]
    assert not at.error


def test_login_form_wrong_key_then_viewer_then_sign_out(
    ui_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COSTGUARD_API_KEY")
    at = load()
    field = at.text_input(key="login-key").proto
    assert field.type == field.PASSWORD
    at.text_input(key="login-key").input("not-a-key")
    ok(at.button(key="login-submit").click().run())
    assert any("does not know this API key" in e for e in texts(at.error))

    at.text_input(key="login-key").input(APPROVER_KEY)
    ok(at.button(key="login-submit").click().run())
    assert any("as **approver**" in c.value for c in at.sidebar.caption)  # GET /api/v1/me
    assert any(m.label == "Realized (USD)" for m in at.metric)
    ok(at.button(key="sign-out").click().run())
    assert at.text_input(key="login-key").value == ""


def test_empty_backend_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, empty_backend_url: str
) -> None:
    monkeypatch.setenv("BACKEND_URL", empty_backend_url)
    monkeypatch.setenv("COSTGUARD_API_KEY", APPROVER_KEY)
    at = load()
    assert texts(at.success) == ["No open anomalies"]
    infos = " ".join(texts(at.info))
    assert "No cost data yet" in infos and "No anomalies yet" in infos and "No actions yet" in infos
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Critical"] == "0" and metrics["Estimated, executed (USD/month)"] == "$0.00"
    at.switch_page("views/anomaly.py")
    assert "No anomalies yet" in " ".join(texts(ok(at.run()).info))


def test_unreachable_backend_is_an_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKEND_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("COSTGUARD_API_KEY", APPROVER_KEY)
    at = load()
    assert at.error[0].value.startswith("Cannot reach the backend at http://127.0.0.1:9")

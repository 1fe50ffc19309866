"""The dashboard's pure shaping: totals, banner text, table rows and error wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

from costguard_core.client import BackendError
from costguard_core.models import ActionPublic, ActionStatus, AnomalyPublic, RootCause
from costguard_ui import backend, tables

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def anomaly(impact: float, severity: str = "medium", causes: list[RootCause] | None = None):
    return AnomalyPublic(
        id=f"a-{impact}", start=date(2026, 10, 1), end=date(2026, 10, 3),
        scope={"ServiceName": "BigQuery", "SubAccountId": "proj-1"}, expected_cost=10.0,
        actual_cost=10.0 + impact, impact_usd=impact, severity=severity, confidence=0.8,
        root_causes=causes or [], created_at=NOW,
    )  # fmt: skip


def action(action_id: int, saving: str, status: ActionStatus) -> ActionPublic:
    return ActionPublic(
        id=action_id, anomaly_id="a", action_type="notify_owner", provider="gcp",
        title=f"Action {action_id}", estimated_monthly_saving_usd=Decimal(saving), status=status,
        version=1, created_at=NOW, updated_at=NOW,
        approved_by="approver" if status == ActionStatus.executed else None,
    )  # fmt: skip


def test_summary_sums_savings_exactly_and_counts_serious() -> None:
    executed = [action(i, "0.10", ActionStatus.executed) for i in range(3)]
    summary = tables.summarize(
        [anomaly(100.0, "critical"), anomaly(50.25, "low")],
        [action(9, "5", ActionStatus.pending_approval)],
        executed,
    )
    # Three float 0.1s would not sum to 0.3; Decimal keeps the stored cents.
    assert summary.executed_monthly_saving_usd == Decimal("0.30")
    assert (summary.open_anomalies, summary.serious_open) == (2, 1)
    assert summary.open_impact_usd == 150.25
    assert (summary.pending_approvals, summary.executed_actions) == (1, 3)
    assert tables.banner_text(summary) == "2 open anomalies — $150.25 impact"


def test_banner_singular() -> None:
    summary = tables.summarize([anomaly(1234.5)], [], [])
    assert tables.banner_text(summary) == "1 open anomaly — $1,234.50 impact"


def test_top_root_cause_is_the_largest() -> None:
    causes = [
        RootCause(ProviderName="GCP", ServiceName="BigQuery", ResourceId="job-1",
                  impact_usd=10.0, share=0.25),
        RootCause(ProviderName="GCP", ServiceName="BigQuery", ResourceId="job-2",
                  impact_usd=30.0, share=0.75),
    ]  # fmt: skip
    assert tables.top_root_cause(causes) == "BigQuery / job-2 (75%)"
    assert tables.top_root_cause([]) == ""


def test_frames_have_the_documented_columns() -> None:
    frame = tables.anomalies_frame([anomaly(7.0)])
    assert list(frame.columns) == [
        "id", "start", "end", "detected_at", "scope", "severity", "status", "impact_usd",
        "top_root_cause",
    ]  # fmt: skip
    assert frame.loc[0, "scope"] == "ServiceName=BigQuery, SubAccountId=proj-1"
    assert frame.loc[0, "detected_at"] == ""  # a daily anomaly: nothing
    acts = tables.actions_frame([action(4, "12.345", ActionStatus.executed)])
    assert acts.loc[0, "estimated_monthly_saving_usd"] == "12.345"
    assert acts.loc[0, "approved_by"] == "approver"
    assert tables.audit_frame([]).empty


def test_raised_text_of_hourly_anomalies_in_utc() -> None:
    daily = anomaly(7.0)
    assert tables.raised_text(daily) == ""
    cet = timezone(timedelta(hours=1))
    for at in (
        datetime(2024, 3, 2, 4, tzinfo=UTC),
        datetime(2024, 3, 2, 5, tzinfo=cet),  # shown in UTC
        datetime(2024, 3, 2, 4),  # naive: the backend's UTC
    ):
        hourly = daily.model_copy(update={"detected_at": at})
        assert tables.raised_text(hourly) == "raised 2024-03-02 04:00 UTC (hourly)"
    frame = tables.anomalies_frame([daily, daily.model_copy(update={"detected_at": at})])
    assert list(frame["detected_at"]) == ["", "raised 2024-03-02 04:00 UTC (hourly)"]


def test_conflict_message_names_the_current_state() -> None:
    exc = BackendError(
        409, {"error": "invalid_transition", "current_status": "rejected", "requested": "approved"}
    )
    message = backend.describe_error(exc, "approve", 7)
    assert message.startswith("Cannot approve action 7: it is already 'rejected'")
    assert "HTTP 403" in backend.describe_error(BackendError(403, "forbidden"), "reject", 7)

"""The real dashboard in headless Chromium against real processes: backend, MCP cloud-resource
server, executor and the Streamlit UI (``streamlit run``), each started as ``make up`` does.

Sign in with an approver key → Anomaly page → Approve → the executor runs the dry-run through MCP
and reports back → the page's auto-refresh shows the Executed badge; a screenshot is saved under
the test's tmp_path. Chromium is Debian's package (``apt-get install chromium``), driven by
PyPI's playwright; missing, the test fails when CI=true and skips otherwise.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from costguard_core.client import BackendClient
from costguard_core.models import ActionCreate, ActionStatus, AnomalyCreate, CostRow, RootCause

INSTANCE = "i-0123456789abcdef0"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    reason = "chromium not installed (apt-get install -y --no-install-recommends chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def seed(agent: BackendClient) -> tuple[str, int]:
    """Five weeks of USD 40/day EC2 spend, two days at USD 490, the anomaly and its action."""
    days = [date(2026, 10, 3) + timedelta(days=d) for d in range(-35, 2)]
    agent.ingest_costs(
        "browser-test",
        [
            CostRow(
                ChargePeriodStart=day, ProviderName="AWS", ServiceName="Amazon EC2",
                ResourceId=INSTANCE, BillingCurrency="USD",
                BilledCost=Decimal("490" if day >= date(2026, 10, 3) else "40"),
                EffectiveCost=Decimal("490" if day >= date(2026, 10, 3) else "40"),
            )
            for day in days
        ],
    )  # fmt: skip
    anomaly = agent.create_anomaly(
        AnomalyCreate(
            id="browser-1", start=date(2026, 10, 3), end=date(2026, 10, 4),
            scope={"ServiceName": "Amazon EC2"}, expected_cost=40.0, actual_cost=940.0,
            impact_usd=900.0, severity="high", confidence=0.95,
            root_causes=[RootCause(ProviderName="AWS", ServiceName="Amazon EC2",
                                   ResourceId=INSTANCE, impact_usd=900.0, share=1.0)],
        )
    )  # fmt: skip
    action = agent.create_action(
        ActionCreate(
            anomaly_id=anomaly.id, action_type="stop_instance", provider="aws",
            resource_id=INSTANCE, title="Stop runaway instance i-0123456789abcdef0",
            parameters={"provider": "aws", "resource_id": INSTANCE, "region": "us-east-1"},
            estimated_monthly_saving_usd=Decimal("650.00"), risk="medium",
        )
    )  # fmt: skip
    return anomaly.id, action.id


def test_approve_to_executed_in_a_real_browser(tmp_path: Path, make_stack, keys) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    with make_stack(
        tmp_path,
        f"sqlite:///{tmp_path / 'ui.db'}",
        services=("backend", "mcp", "executor", "ui"),
        extra_env={"COSTGUARD_UI_REFRESH_S": "2"},
    ) as stack:
        # No key in the UI's environment: the user must sign in.
        stack.overrides["ui"] = {"COSTGUARD_API_KEY": ""}
        stack.start()
        approver = BackendClient(stack.urls["backend"], keys["approver"])
        _, action_id = seed(BackendClient(stack.urls["backend"], keys["agent"]))

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1800})
                page.goto(stack.urls["ui"], timeout=60_000)
                page.locator("input[type=password]").fill(keys["approver"], timeout=60_000)
                page.get_by_role("button", name="Sign in").click()
                expect(page.locator('[data-testid="stMetric"]').first).to_be_visible(timeout=60_000)
                page.get_by_role("link", name="Anomaly").click()
                page.get_by_role("button", name="Approve").click(timeout=60_000)

                deadline = time.monotonic() + 60
                while approver.get_action(action_id).status not in (
                    ActionStatus.executed,
                    ActionStatus.failed,
                ):
                    assert time.monotonic() < deadline, "action never finished"
                    time.sleep(0.3)
                assert approver.get_action(action_id).status == ActionStatus.executed
                # The page's auto-refresh (2 s) redraws the card with its badge.
                expect(page.get_by_text("Executed", exact=True)).to_be_visible(timeout=30_000)
                expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=30_000)
                page.screenshot(path=str(tmp_path / "approved-executed.png"), full_page=True)
            finally:
                browser.close()
        assert (tmp_path / "approved-executed.png").stat().st_size > 10_000
        trail, _ = approver.audit_events(entity_type="action", entity_id=str(action_id))
        assert next(e for e in trail if e.to_status == "approved").actor == "bob-approver"

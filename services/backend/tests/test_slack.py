"""Slack through slack-sdk against a local HTTP server playing the Web API and response_url:
alert shape, signed and forged button clicks (a decision and its message update in one commit;
the response_url masked in the outbox listing), thread replies, routing and the daily digest."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from costguard_backend.main import create_app
from costguard_backend.models import Outbox
from costguard_backend.outbox import OutboxWorker
from costguard_core.signing import signed_headers
from fastapi.testclient import TestClient
from slack_sdk.signature import SignatureVerifier
from sqlmodel import Session, col, select

SIGNING_SECRET = "test-slack-signing-secret"


@pytest.fixture
def cfg(settings, slack_server):
    return settings.model_copy(
        update={
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_BASE_URL": slack_server.url + "/api/",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_USER_MAP": "U123=approver,U777=viewer",
            "SLACK_RESPONSE_URL_PREFIX": slack_server.url + "/respond/",
            "SLACK_DIGEST_SEVERITIES": "low",
        }
    )


@pytest.fixture
def app_client(cfg):
    with TestClient(create_app(cfg)) as c:
        yield c


def _click(client, slack_server, action_id, verb="approve", user="U123", secret=SIGNING_SECRET):
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "response_url": f"{slack_server.url}/respond/T1/B1",
        "actions": [
            {
                "action_id": verb,
                "value": str(action_id),
                "block_id": f"costguard-action-{action_id}",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    ts = str(int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }
    return client.post("/api/v1/slack/interactivity", content=body, headers=headers)


def _state(engine, action_id):
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status, version FROM action WHERE id = :i"), {"i": action_id}
        ).one()
        counts = [
            conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
            for t in ("audit_event", "approval", "outbox")
        ]
    return tuple(status), counts


def test_alert_has_anomaly_facts_and_buttons_and_keeps_its_ts(
    app_client, h, cfg, engine, slack_server
):
    action = h.new_action(app_client)
    assert OutboxWorker(engine, cfg).deliver_due() == 1
    [post] = slack_server.posts
    assert post["channel"] == "#costguard"
    assert post["text"] == f"Approval needed (one approver): {action['title']}"
    types = [b["type"] for b in post["blocks"]]
    assert types == ["section", "section", "context", "actions"]
    fields = " ".join(f["text"] for f in post["blocks"][1]["fields"])
    assert "*Severity*\nhigh" in fields and "540.00 USD" in fields and "1234.56 USD/month" in fields
    assert "Amazon EC2 i-0abc (93%)" in post["blocks"][2]["elements"][0]["text"]
    buttons = post["blocks"][3]["elements"]
    assert [(b["action_id"], b["value"], b["style"]) for b in buttons] == [
        ("approve", str(action["id"]), "primary"),
        ("reject", str(action["id"]), "danger"),
    ]
    rows = app_client.get("/api/v1/outbox", headers=h.auth("viewer")).json()["data"]
    assert rows[0]["payload"]["slack"] == {"channel": "CCOSTGUARD", "ts": "1700000000.000001"}


def _slack_responses(engine) -> list[dict]:
    """The stored payloads of the ``slack_response`` rows, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(Outbox).where(Outbox.kind == "slack_response").order_by(col(Outbox.id))
        )
        return [dict(r.payload) for r in rows]


def test_decision_and_its_message_update_are_one_commit(
    app_client, h, engine, slack_server, monkeypatch
):
    # The click's first commit goes through, then the process dies: what that commit wrote is
    # all that is left. Committed apart (decision, then the slack_response row), the decision
    # would stand and the clicked message would keep its buttons forever.
    action = h.new_action(app_client)
    commits = h.die_after_first_commit(monkeypatch)
    with pytest.raises(h.Died):
        _click(app_client, slack_server, action["id"])
    monkeypatch.undo()
    assert len(commits) == 1
    assert _state(engine, action["id"])[0] == ("approved", 3)
    responses = _slack_responses(engine)
    assert [(r["outcome"], r["actor"]) for r in responses] == [("approved", "approver")]
    assert responses[0]["response_url"] == f"{slack_server.url}/respond/T1/B1"


def test_click_refused_by_the_policy_is_answered_on_its_own(cfg, h, engine, slack_server, tmp_path):
    # crud.refuse rolls the decision back and commits its own policy_block audit event; the
    # refusal's slack_response row is then written by itself.
    path = tmp_path / "policy.yaml"
    path.write_text("max_actions_per_day: 0\n")
    with TestClient(create_app(cfg.model_copy(update={"POLICY_FILE": str(path)}))) as client:
        action = h.new_action(client)
        assert _click(client, slack_server, action["id"]).status_code == 200
        trail = client.get(
            "/api/v1/audit-events",
            params={"entity_type": "action", "entity_id": str(action["id"])},
            headers=h.auth("viewer"),
        ).json()["data"]
    assert _state(engine, action["id"])[0] == ("pending_approval", 2)
    assert trail[-1]["action"] == "policy_block"
    assert trail[-1]["detail"]["rule"] == "max_actions_per_day"
    [response] = _slack_responses(engine)
    assert response["outcome"] == "refused" and "max_actions_per_day" in response["error"]
    OutboxWorker(engine, cfg).deliver_due()
    [update] = slack_server.responses
    assert update["body"]["response_type"] == "ephemeral"
    assert "max_actions_per_day" in update["body"]["text"]


def test_viewers_do_not_see_the_response_url(app_client, h, cfg, engine, slack_server):
    # A response_url lets whoever holds it post into the channel (for 30 minutes, 5 times): the
    # outbox listing masks it for every caller; the stored row keeps it for the delivery.
    action = h.new_action(app_client)
    _click(app_client, slack_server, action["id"])
    url = f"{slack_server.url}/respond/T1/B1"
    for role in ("viewer", "admin"):
        resp = app_client.get(
            "/api/v1/outbox", params={"kind": "slack_response"}, headers=h.auth(role)
        )
        assert resp.status_code == 200
        assert url not in resp.text and "/respond/" not in resp.text
        [row] = resp.json()["data"]
        assert row["payload"]["response_url"] == "[redacted]"
        assert row["payload"]["outcome"] == "approved"
    assert [r["response_url"] for r in _slack_responses(engine)] == [url]
    OutboxWorker(engine, cfg).deliver_due()
    assert [r["path"] for r in slack_server.responses] == ["/respond/T1/B1"]


def test_signed_click_approves_and_updates_the_message(app_client, h, cfg, engine, slack_server):
    action = h.new_action(app_client)
    resp = _click(app_client, slack_server, action["id"])
    assert resp.status_code == 200 and resp.content == b""
    body = app_client.get(f"/api/v1/actions/{action['id']}", headers=h.auth("viewer")).json()
    assert body["status"] == "approved" and body["approved_by"] == "approver"
    trail = app_client.get(
        "/api/v1/audit-events",
        params={"entity_type": "action", "entity_id": str(action["id"])},
        headers=h.auth("viewer"),
    ).json()["data"]
    assert trail[-1]["actor"] == "approver" and trail[-1]["to_status"] == "approved"
    assert trail[-1]["detail"]["comment"] == "via Slack (user U123)"
    OutboxWorker(engine, cfg).deliver_due()
    [update] = slack_server.responses
    assert update["path"] == "/respond/T1/B1" and update["body"]["replace_original"] is True
    assert update["body"]["text"].startswith(":white_check_mark: Approved by approver in Slack")
    assert "actions" not in [b["type"] for b in update["body"]["blocks"]]
    # A second click is refused by the workflow (409 in the REST API) and answered ephemerally.
    before = _state(engine, action["id"])
    assert _click(app_client, slack_server, action["id"]).status_code == 200
    OutboxWorker(engine, cfg).deliver_due()
    assert slack_server.responses[-1]["body"]["response_type"] == "ephemeral"
    assert "invalid_transition" in slack_server.responses[-1]["body"]["text"]
    assert _state(engine, action["id"])[0] == before[0]


def test_forged_or_unmapped_clicks_change_nothing(app_client, h, engine, slack_server):
    action = h.new_action(app_client)
    before = _state(engine, action["id"])
    forged = _click(app_client, slack_server, action["id"], secret="not-the-secret")
    assert forged.status_code == 401 and forged.json()["detail"]["error"] == "bad_signature"
    stale = urlencode({"payload": "{}"})
    old = str(int(time.time()) - 600)
    resp = app_client.post(
        "/api/v1/slack/interactivity",
        content=stale,
        headers={
            "X-Slack-Request-Timestamp": old,
            "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(
                timestamp=old, body=stale
            ),
        },
    )
    assert resp.status_code == 401  # outside the 5-minute window
    unknown = _click(app_client, slack_server, action["id"], user="U999")
    assert unknown.status_code == 403 and unknown.json()["detail"]["error"] == "unknown_slack_user"
    viewer = _click(app_client, slack_server, action["id"], user="U777")
    assert viewer.status_code == 403  # mapped, but the principal is not an approver
    assert _state(engine, action["id"]) == before
    assert slack_server.responses == []


def _report_executed(client, h, action_id: int) -> None:
    """The executor's signed report that ``action_id`` was executed (a dry-run stop)."""
    report = json.dumps(
        {"event": "execution_complete", "action_id": action_id, "status": "executed",
         "result": {"summary": "instance stopped (dry-run)"}, "executor": "executor"}
    ).encode()  # fmt: skip
    headers = {"Content-Type": "application/json", **signed_headers(h.WEBHOOK_SECRET, report)}
    assert client.post("/api/v1/archestra/webhook", content=report, headers=headers).is_success


def test_execution_result_is_a_thread_reply(app_client, h, cfg, engine, slack_server):
    action = h.new_action(app_client)
    OutboxWorker(engine, cfg).deliver_due()  # the alert
    _click(app_client, slack_server, action["id"])
    _report_executed(app_client, h, action["id"])
    OutboxWorker(engine, cfg.model_copy(update={"EXECUTOR_URL": slack_server.url})).deliver_due()
    replies = [p for p in slack_server.posts if "thread_ts" in p]
    assert len(replies) == 1
    assert replies[0]["thread_ts"] == "1700000000.000001" and replies[0]["channel"] == "CCOSTGUARD"
    assert replies[0]["text"] == f"Action {action['id']} executed: instance stopped (dry-run)"


def test_routing_by_owner_tag_and_account(client, h, cfg, engine, slack_server):
    routes = (
        '- {channel: "#data-team", tag: {owner: data}}\n'
        '- {channel: "#acct-333", SubAccountId: "333"}\n'
    )
    routed = cfg.model_copy(update={"SLACK_ROUTES": routes})
    causes = [{"ProviderName": "AWS", "SubAccountId": "333", "ServiceName": "Amazon EC2",
               "ResourceId": "i-1", "impact_usd": 500.0, "share": 1.0}]  # fmt: skip
    row = h.cost_row(ChargePeriodStart="2025-03-10", SubAccountId="333", ResourceId="i-1",
                     BillingAccountId=None, RegionId=None, Tags={"owner": "data"})  # fmt: skip
    client.post(
        "/api/v1/costs/ingest", json={"source": "t", "rows": [row]}, headers=h.auth("agent")
    )
    for n, anomaly_id in enumerate(("tagged", "account-only")):
        body = h.anomaly_body(anomaly_id, root_causes=causes, start=f"2025-0{3 + n}-10")
        client.post("/api/v1/anomalies", json=body, headers=h.auth("agent"))
        client.post("/api/v1/actions", json=h.action_body(anomaly_id), headers=h.auth("agent"))
    OutboxWorker(engine, routed).deliver_due()
    assert [p["channel"] for p in slack_server.posts] == ["#data-team", "#acct-333"]
    bad = create_app(cfg.model_copy(update={"SLACK_ROUTES": "- {tag: {a: b}}"}))
    with pytest.raises(ValueError, match="SLACK_ROUTES rule 1: channel"), TestClient(bad):
        pass


def test_low_severity_goes_to_one_daily_digest(client, h, cfg, engine, slack_server):
    ids = []
    for anomaly_id in ("low-1", "low-2"):
        client.post(
            "/api/v1/anomalies",
            json=h.anomaly_body(anomaly_id, severity="low"),
            headers=h.auth("agent"),
        )
        ids.append(
            client.post(
                "/api/v1/actions", json=h.action_body(anomaly_id), headers=h.auth("agent")
            ).json()["id"]
        )
    worker = OutboxWorker(engine, cfg)
    now = datetime.now(UTC)
    assert worker.deliver_due(now=now) == 2
    assert slack_server.posts == []  # deferred, not one message each
    today = now.date()
    rows = client.get("/api/v1/outbox", headers=h.auth("viewer")).json()["data"]
    notes = {r["last_error"] for r in rows if r["kind"] == "approval_requested"}
    assert notes == {f"deferred to Slack digest {today} #costguard"}
    [digest] = [r for r in rows if r["kind"] == "slack_digest"]
    send_at = datetime.combine(today + timedelta(days=1), dtime(9), tzinfo=UTC)
    assert datetime.fromisoformat(digest["next_attempt_at"]) == send_at
    assert worker.deliver_due(now=send_at - timedelta(seconds=1)) == 0  # not due yet
    assert worker.deliver_due(now=send_at) == 1
    [post] = slack_server.posts
    assert post["text"] == f"CostGuard daily digest for {today} (UTC): 2 low-severity anomalies"
    values = [b["elements"][0]["value"] for b in post["blocks"] if b["type"] == "actions"]
    assert values == [str(i) for i in ids]
    assert worker.deliver_due(now=send_at + timedelta(days=1)) == 0  # once per day


def _retry(engine, cfg, attempts: int = 1) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    assert OutboxWorker(engine, cfg).deliver_due(now=later) == attempts


def test_a_post_whose_answer_was_lost_is_not_posted_again(
    h, cfg, engine, slack_server, monkeypatch, caplog
):
    # Slack took the message but the answer never came back: the attempt fails and the row is
    # retried. The retry finds the first post by its idempotency key in the channel history
    # and keeps it, instead of posting the alert a second time.
    cfg = cfg.model_copy(update={"SLACK_CHANNEL": "C0COSTGUARD"})
    lost = h.lose_first_slack_answer(monkeypatch)
    with TestClient(create_app(cfg)) as client:
        action = h.new_action(client)
        assert OutboxWorker(engine, cfg).deliver_due() == 1
        assert len(lost) == 1 and len(slack_server.posts) == 1
        caplog.set_level("INFO", logger="costguard_backend.dispatch")
        _retry(engine, cfg)
        one = [f"costguard-action-{action['id']}"]
        assert h.buttons_for(slack_server.posts, action["id"]) == one
        [read] = slack_server.history_reads
        assert read["path"] == "/api/conversations.history" and read["channel"] == "C0COSTGUARD"
        [row] = client.get("/api/v1/outbox", headers=h.auth("viewer")).json()["data"]
        assert row["status"] == "delivered" and row["attempts"] == 2
        assert row["payload"]["slack"] == {"channel": "C0COSTGUARD", "ts": "1700000000.000001"}
        assert any("already posted by an earlier attempt" in r.getMessage() for r in caplog.records)
        # A thread reply whose answer was lost is found in its thread the same way.
        lost.clear()
        _click(client, slack_server, action["id"])
        _report_executed(client, h, action["id"])
        cfg_exec = cfg.model_copy(update={"EXECUTOR_URL": slack_server.url})
        OutboxWorker(engine, cfg_exec).deliver_due()
        assert lost and len([p for p in slack_server.posts if "thread_ts" in p]) == 1
        _retry(engine, cfg_exec)
        replies = [p for p in slack_server.posts if "thread_ts" in p]
        assert len(replies) == 1 and slack_server.history_reads[-1]["path"].endswith(
            "conversations.replies"
        )


def test_a_refused_first_post_is_posted_on_the_retry(h, cfg, engine, slack_server):
    cfg = cfg.model_copy(update={"SLACK_CHANNEL": "C0COSTGUARD"})
    refused: list[str] = []

    def once(body):
        if not refused:
            refused.append(body["text"])
            return True
        return False

    slack_server.refuse = once
    with TestClient(create_app(cfg)) as client:
        action = h.new_action(client)
        assert OutboxWorker(engine, cfg).deliver_due() == 1 and slack_server.posts == []
        _retry(engine, cfg)
    one = [f"costguard-action-{action['id']}"]
    assert h.buttons_for(slack_server.posts, action["id"]) == one
    assert len(slack_server.history_reads) == 1  # looked, found nothing, posted


@pytest.mark.parametrize(
    "channel, error",
    [
        ("#costguard", "missing_scope"),
        ("C0COSTGUARD", "missing_scope"),
        ("C0COSTGUARD", "not json"),
    ],
)
def test_without_a_readable_history_the_retry_posts_again_and_says_so(
    h, cfg, engine, slack_server, monkeypatch, caplog, channel, error
):
    # A bot without the channels:read (to find a named channel's id) or channels:history
    # scope: the earlier post cannot be looked for, so the message is posted again
    # (at-least-once), with a WARNING naming why.
    # "not json": a history answer slack-sdk cannot read at all (a proxy's error page).
    cfg = cfg.model_copy(update={"SLACK_CHANNEL": channel})
    slack_server.history_error = error
    h.lose_first_slack_answer(monkeypatch)
    with TestClient(create_app(cfg)) as client:
        action = h.new_action(client)
        OutboxWorker(engine, cfg).deliver_due()
        _retry(engine, cfg)
    assert len(h.buttons_for(slack_server.posts, action["id"])) == 2
    [warning] = [r for r in caplog.records if "cannot read" in r.getMessage()]
    assert warning.levelname == "WARNING"
    said = {"missing_scope": "Slack answered missing_scope"}
    assert said.get(error, "a response in a non-JSON format") in warning.getMessage()


def test_a_channel_given_by_name_is_looked_up_by_its_id(h, cfg, engine, slack_server, monkeypatch):
    # SLACK_CHANNEL "#costguard" (the default): the history is read under the id
    # conversations.list gives for that name, and the earlier post is found there.
    h.lose_first_slack_answer(monkeypatch)
    with TestClient(create_app(cfg)) as client:
        action = h.new_action(client)
        OutboxWorker(engine, cfg).deliver_due()
        _retry(engine, cfg)
        [row] = client.get("/api/v1/outbox", headers=h.auth("viewer")).json()["data"]
    assert len(h.buttons_for(slack_server.posts, action["id"])) == 1
    assert [r["path"] for r in slack_server.history_reads] == [
        "/api/conversations.list",
        "/api/conversations.history",
    ]
    assert slack_server.history_reads[1]["channel"] == "CCOSTGUARD"
    assert row["payload"]["slack"] == {"channel": "CCOSTGUARD", "ts": "1700000000.000001"}

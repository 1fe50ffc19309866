"""Slack messages (Block Kit), built here and sent with slack-sdk (``WebClient`` for
``chat.postMessage``, ``WebhookClient`` for an interaction's ``response_url``).

Builders return ``chat.postMessage`` keyword arguments (``text`` is the notification fallback,
``blocks`` the layout). Each message carries the outbox idempotency key in Slack message
``metadata`` (event ``costguard_notification``), so a redelivery after a crash, a lost answer or
a post slower than its outbox lease is recognised in the channel history (``find_posted``) and
not posted again. Buttons: ``action_id`` ``approve`` / ``reject``, ``value`` the CostGuard
action id; the block id is ``costguard-action-<id>`` in an alert and ``costguard-digest-<id>`` in
a digest (the interactivity endpoint replaces an alert but answers a digest click ephemerally).

``send`` raises ``SlackApiError`` (Slack answered ``ok: false``) or a transport error
(``OSError``); ``respond`` raises ``SlackResponseError`` on a non-200 answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import Any

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient

EVENT_TYPE = "costguard_notification"
#: Slack refuses messages of more than 50 blocks; a digest lists at most this many items.
DIGEST_MAX_ITEMS = 15


class SlackResponseError(Exception):
    """A ``response_url`` answered other than 200."""


@dataclass(frozen=True)
class AlertInfo:
    """What an alert shows about one action and its anomaly (money as display strings, in the
    anomaly's currency; the estimate in USD)."""

    action_id: int
    title: str
    link: str
    status: str
    risk: str
    estimated_monthly_saving_usd: str
    severity: str = "unknown"
    impact: str = ""
    currency: str = "USD"
    window: str = ""
    scope: str = ""
    root_causes: tuple[str, ...] = ()


def _metadata(idempotency_key: str, action_id: int | None) -> dict[str, Any]:
    return {
        "event_type": EVENT_TYPE,
        "event_payload": {"idempotency_key": idempotency_key, "action_id": action_id},
    }


def _need(approvals: int) -> str:
    return "one approver" if approvals == 1 else f"{approvals} distinct approvers"


def buttons(action_id: int, block_prefix: str = "costguard-action") -> dict[str, Any]:
    """The Approve / Reject actions block of one action."""
    value = str(action_id)
    return {
        "type": "actions",
        "block_id": f"{block_prefix}-{action_id}",
        "elements": [
            {"type": "button", "action_id": "approve", "value": value, "style": "primary",
             "text": {"type": "plain_text", "text": "Approve"}},
            {"type": "button", "action_id": "reject", "value": value, "style": "danger",
             "text": {"type": "plain_text", "text": "Reject"}},
        ],
    }  # fmt: skip


def alert_blocks(info: AlertInfo, headline: str, *, with_buttons: bool) -> list[dict[str, Any]]:
    """Headline, the anomaly's facts, its root causes and (optionally) the buttons."""
    fields = [
        f"*Severity*\n{info.severity}",
        f"*Impact*\n{info.impact} {info.currency}".rstrip(),
        f"*Window (UTC)*\n{info.window}",
        f"*Scope*\n{info.scope or 'all spend'}",
        f"*Estimated saving*\n{info.estimated_monthly_saving_usd} USD/month",
        f"*Risk*\n{info.risk}",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
    ]
    if info.root_causes:
        text = "Root causes: " + "; ".join(info.root_causes)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text[:2900]}]})
    if with_buttons:
        blocks.append(buttons(info.action_id))
    return blocks


def approval_message(
    *, channel: str, info: AlertInfo, approvals: int, idempotency_key: str
) -> dict[str, Any]:
    """The anomaly alert asking for approval of one action (``approvals``: distinct approvers it
    needs), with Approve and Reject buttons."""
    text = f"Approval needed ({_need(approvals)}): {info.title}"
    headline = f"*{text}*\n<{info.link}|Action {info.action_id}>"
    return {
        "channel": channel,
        "text": text,
        "blocks": alert_blocks(info, headline, with_buttons=True),
        "metadata": _metadata(idempotency_key, info.action_id),
    }


def result_message(
    *,
    channel: str,
    action_id: int,
    status: str,
    summary: str,
    idempotency_key: str,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """How an approved action ended (executed, failed, rolled_back); a reply in the alert's
    thread when ``thread_ts`` is given."""
    text = f"Action {action_id} {status}: {summary}"
    message: dict[str, Any] = {
        "channel": channel,
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        "metadata": _metadata(idempotency_key, action_id),
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
    return message


def escalation_message(
    *, channel: str, thread_ts: str, info: AlertInfo, before: str, after: str, idempotency_key: str
) -> dict[str, Any]:
    """The severity of ``info``'s anomaly rose from ``before`` to ``after``: a reply in the
    alert's (or digest's) thread, also shown in the channel (``reply_broadcast``), with the
    anomaly's current figures and the action's status."""
    text = (
        f"Severity raised {before} → {after}: impact now {info.impact} {info.currency} "
        f"({info.window}); action #{info.action_id} is {info.status}"
    )
    return {
        "channel": channel,
        "thread_ts": thread_ts,
        "reply_broadcast": True,
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}],
        "metadata": _metadata(idempotency_key, info.action_id),
    }


def digest_message(
    *, channel: str, day: str, items: list[AlertInfo], idempotency_key: str
) -> dict[str, Any]:
    """One message for the day's low-severity alerts; pending ones keep their buttons."""
    text = f"CostGuard daily digest for {day} (UTC): {len(items)} low-severity anomalies"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": text[:150]}}
    ]
    for info in items[:DIGEST_MAX_ITEMS]:
        line = (
            f"*<{info.link}|Action {info.action_id}>* {info.title}\n"
            f"{info.severity} · impact {info.impact} {info.currency} · {info.window} · "
            f"est. {info.estimated_monthly_saving_usd} USD/month · {info.status}"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line[:2900]}})
        if info.status == "pending_approval":
            blocks.append(buttons(info.action_id, "costguard-digest"))
    if len(items) > DIGEST_MAX_ITEMS:
        more = f"…and {len(items) - DIGEST_MAX_ITEMS} more in the CostGuard dashboard."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return {
        "channel": channel,
        "text": text,
        "blocks": blocks,
        "metadata": _metadata(idempotency_key, None),
    }


def send(
    token: str, base_url: str, message: dict[str, Any], timeout_s: float = 10
) -> tuple[str, str]:
    """Post ``message``; return the channel id and the message timestamp ``ts`` Slack gave it."""
    client = WebClient(token=token, base_url=base_url, timeout=int(max(timeout_s, 1)))
    answer = client.chat_postMessage(**message)
    return str(answer.get("channel") or message["channel"]), str(answer.get("ts", ""))


#: Pages of channel history (200 messages each) read looking for an earlier attempt's message.
HISTORY_PAGES = 10


def find_posted(
    token: str, base_url: str, message: dict[str, Any], oldest: float, timeout_s: float = 10
) -> tuple[str, str] | None:
    """The ``(channel, ts)`` of a message posted since ``oldest`` (Unix seconds) that carries
    ``message``'s idempotency key in its metadata, or None: an earlier attempt's post.

    Reads ``conversations.history`` of ``message["channel"]`` (a thread reply: that thread's
    ``conversations.replies``) with ``include_all_metadata``, newest first, at most
    ``HISTORY_PAGES`` pages of 200; a channel given by name is first looked up by name
    (``channel_id``), as Slack's history methods take ids only. The bot needs
    ``channels:history`` and, for a name, ``channels:read`` (``groups:…`` in a private
    channel). Raises ``SlackApiError`` (``missing_scope``, ``channel_not_found``, …),
    ``LookupError`` (no conversation has that name) or a transport error (``OSError``)."""
    key = message["metadata"]["event_payload"]["idempotency_key"]
    client = WebClient(token=token, base_url=base_url, timeout=int(max(timeout_s, 1)))
    channel = channel_id(client, message["channel"])
    query: dict[str, Any] = {
        "channel": channel,
        "oldest": f"{oldest:.6f}",
        "include_all_metadata": True,
        "limit": 200,
    }
    if message.get("thread_ts"):
        pages = client.conversations_replies(ts=message["thread_ts"], **query)
    else:
        pages = client.conversations_history(**query)
    # Iterating a SlackResponse follows its next_cursor (slack-sdk's pagination).
    for page in islice(pages, HISTORY_PAGES):
        for posted in page.get("messages") or []:
            meta = posted.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") == EVENT_TYPE and payload.get("idempotency_key") == key:
                return str(channel), str(posted["ts"])
    return None


def channel_id(client: WebClient, channel: str) -> str:
    """``channel`` if it is a conversation id (``C…``, ``G…``, ``D…``), else the id of the
    conversation of that name (``#`` optional) from ``conversations.list`` (public and private,
    archived ones left out). Raises ``LookupError`` when none has that name, ``SlackApiError``
    as ``conversations.list`` does (``missing_scope`` without ``channels:read``)."""
    if CONVERSATION_ID.fullmatch(channel):
        return channel
    name = channel.removeprefix("#")
    pages = client.conversations_list(
        types="public_channel,private_channel", exclude_archived=True, limit=1000
    )
    for page in pages:  # every page (slack-sdk follows next_cursor)
        for conversation in page.get("channels") or []:
            if conversation.get("name") == name:
                return str(conversation["id"])
    raise LookupError(f"no Slack conversation named {channel!r}")


#: A Slack conversation id: public (C), private or multi-person (G), direct message (D).
CONVERSATION_ID = re.compile(r"[CGD][A-Z0-9]{6,}")


def respond(url: str, body: dict[str, Any], timeout_s: float = 10) -> None:
    """Send ``body`` (``text``, ``blocks``, ``replace_original``, ``response_type``) to an
    interaction's ``response_url``."""
    answer = WebhookClient(url, timeout=int(max(timeout_s, 1))).send(**body)
    if answer.status_code != 200:
        raise SlackResponseError(f"response_url answered {answer.status_code}: {answer.body[:300]}")

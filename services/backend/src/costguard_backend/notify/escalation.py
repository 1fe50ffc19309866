"""Delivering ``anomaly_escalated`` (what it does: ``deliver.py``'s docstring): what a rise in an
anomaly's severity tier changes in Slack, for each of its actions that asked for approval.

The row's ``from`` is the highest tier the user was told when ``crud_anomalies`` wrote it; its
``to`` may be out of date when the worker runs, so what is announced is the anomaly's current tier
and figures, and nothing when that tier is no longer above ``from`` (lowered again meanwhile).

Per action: a request deferred to a digest not sent yet is posted now as its own alert when the
anomaly's severity is no longer a digest severity (and the action still waits for approval); a
request whose alert or digest was posted gets a thread reply broadcast to the channel, from the
highest tier its thread has told (``from``, or the request's ``payload["shown_severity"]``: the
tier its alert showed, raised by each reply) to the current one, and none when the thread already
tells that tier (an alert posted after the revision, or a reply to an earlier row); a request not
delivered yet needs nothing (its alert will show the current figures). Actions already handled are
listed under the row's ``payload["posted_for"]`` and committed one by one, so a retry after a
later action's Slack error posts nothing twice. Each request row is locked from the decision to
that commit (``deliver._digest`` locks the ones it lists until it is delivered, and
``deliver._approval`` its own before reading the severity), so another worker's digest,
escalation or first delivery of the same request waits and then sees what was posted.
"""

from __future__ import annotations

from costguard_core.models import ActionStatus as S
from costguard_core.models import severity_rank
from sqlalchemy import select
from sqlmodel import Session, col

from costguard_backend.core.config import Settings
from costguard_backend.core.db import bound_row_locks
from costguard_backend.models import Action, Anomaly, Outbox
from costguard_backend.notify import slack
from costguard_backend.notify.deliver import (
    NOT_CONFIGURED,
    alert_info,
    digest_of,
    digest_severities,
    logger,
    post_alert,
    send_once,
    thread_of,
)
from costguard_backend.notify.routing import channel_for


def escalate(settings: Settings, session: Session, row: Outbox) -> str | None:
    """Deliver one ``anomaly_escalated`` row; return a note (why nothing, or not everything, was
    posted) or None."""
    p = row.payload
    anomaly = session.get(Anomaly, str(p["anomaly_id"]))
    requests = _requests(session, str(p["anomaly_id"]))
    if anomaly is None or not requests:
        return "no alert to escalate"
    told = str(p["from"])
    if severity_rank(anomaly.severity) <= severity_rank(told):
        return f"{anomaly.id} is {anomaly.severity} now: not above {told}, already told"
    if not settings.SLACK_BOT_TOKEN:
        logger.info(
            "notification (Slack not configured): anomaly %s severity %s → %s",
            anomaly.id,
            told,
            anomaly.severity,
        )
        return NOT_CONFIGURED
    done, notes = set(p.get("posted_for", [])), []
    for action, request in requests:
        if action.id in done:
            continue
        note = _escalate_one(settings, session, row, anomaly, action, request)
        if note is None:
            done.add(action.id)
            row.payload = {**row.payload, "posted_for": sorted(done)}
        else:
            notes.append(note)
        # With the request row's changes, if it was posted now; ends its lock either way, so
        # no more than one request is locked at a time.
        session.commit()
    return "; ".join(notes) or None


def _requests(session: Session, anomaly_id: str) -> list[tuple[Action, Outbox]]:
    """The anomaly's actions that have an ``approval_requested`` row, with that row."""
    actions = session.scalars(
        select(Action).where(col(Action.anomaly_id) == anomaly_id).order_by(col(Action.id))
    ).all()
    keys = {f"approval-requested-{a.id}": a for a in actions}
    rows = session.scalars(select(Outbox).where(col(Outbox.idempotency_key).in_(list(keys))))
    by_key = {r.idempotency_key: r for r in rows}
    return [(action, by_key[key]) for key, action in keys.items() if key in by_key]


def _escalate_one(
    settings: Settings,
    session: Session,
    row: Outbox,
    anomaly: Anomaly,
    action: Action,
    request: Outbox,
) -> str | None:
    """Post what the rise changes for ``action``; None once posted, else why nothing was."""
    # Locked and re-read, until ``escalate`` commits: a digest being sent by another worker
    # holds the lock until it is committed as delivered (``deliver._digest``), so the request
    # is posted now or in the digest, not in both; another escalation row of the anomaly
    # waits too, then sees this one's alert or reply (``shown_severity``). A first delivery of
    # the request locks it before reading the severity (``deliver._approval``): found pending
    # here, it is read after this commit and shows the new figures; being delivered, this
    # waits and then finds it posted or deferred.
    bound_row_locks(settings, session)
    session.refresh(request, with_for_update=True)
    if request.status == "pending":
        return f"action {action.id}: request not delivered yet (it will show the new figures)"
    digest = digest_of(session, request)
    if digest is not None and digest.status != "delivered":
        return _post_now(settings, session, anomaly, action, request, row)
    thread = thread_of(session, action.id or 0)
    if thread is None:
        return f"action {action.id}: no Slack message to reply to"
    shown, after = request.payload.get("shown_severity"), anomaly.severity
    if shown is not None and severity_rank(shown) >= severity_rank(after):
        # Posted after the revision (e.g. in the same worker round), or told by an earlier
        # row's reply: the thread shows this tier already.
        return f"action {action.id}: its alert already shows {shown}"
    info = alert_info(settings, session, action)  # the current figures, as ``after``
    message = slack.escalation_message(
        channel=thread["channel"],
        thread_ts=thread["ts"],
        info=info,
        before=max(str(row.payload["from"]), shown or "", key=severity_rank),
        after=after,
        idempotency_key=f"{row.idempotency_key or f'outbox-{row.id}'}-action-{action.id}",
    )
    send_once(settings, row, message)  # SLACK_BOT_TOKEN is set: checked by ``escalate``
    # Committed with ``posted_for`` by ``escalate``: a later row's reply starts from here.
    request.payload = {**request.payload, "shown_severity": after}
    return None


def _post_now(
    settings: Settings,
    session: Session,
    anomaly: Anomaly,
    action: Action,
    request: Outbox,
    row: Outbox,
) -> str | None:
    """Post the alert of a request deferred to a digest not sent yet, on its own, and take the
    request out of that digest."""
    if anomaly.severity in digest_severities(settings):
        return f"action {action.id}: left to the digest ({anomaly.severity} is a digest severity)"
    if action.status != S.pending_approval:
        return f"action {action.id} is {action.status}: left to the digest"
    channel = channel_for(settings, session, anomaly)
    note = post_alert(settings, session, request, action, channel, driver=row)
    request.last_error = f"posted on escalation to {anomaly.severity}"
    return note

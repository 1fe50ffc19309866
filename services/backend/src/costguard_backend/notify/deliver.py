"""Delivering the outbox's Slack kinds (called by ``dispatch.Dispatcher``; the outbox worker
decides when and retries on ``NotifyError``).

- ``approval_requested``: the anomaly alert with Approve/Reject, in the routed channel
  (``routing.py``). For an anomaly whose severity is in ``SLACK_DIGEST_SEVERITIES`` nothing is
  posted: the row is noted ``deferred to Slack digest <day> <channel>`` and a ``slack_digest``
  row for that UTC day (the day the request was created) and channel is scheduled for
  ``day + 1`` at ``SLACK_DIGEST_HOUR_UTC``. A request arriving after its day's digest was sent
  is posted on its own. A digest row found pending is locked and read again: with several
  backend replicas, a request delivered while its digest is being sent waits for that digest's
  commit and is then posted on its own, rather than deferred to a digest that left without it.
  A digest row not found is inserted at once, in a savepoint: of two first requests of a day
  and channel delivered at once, the second waits on the unique key for the first's commit,
  then joins the digest row the first created (locked and read again), no IntegrityError.
  The request's own row is locked before the anomaly's severity is read, as an escalation locks
  it before deciding: an escalation meanwhile either comes first (the request is read raised) or
  waits and finds it deferred (posts it at once) or posted (replies), never "not delivered yet".
- ``slack_digest``: one message listing the day's deferred requests (buttons on those still
  pending). It locks its own row, then them (PostgreSQL row locks), until it is committed as
  delivered, as an escalation locks a request before posting it on its own: with several
  backend replicas a request is in the digest or posted on escalation, never both.
- ``action_finished``: the outcome, as a reply in the alert's thread (or the digest's).
- ``slack_response``: the update of the message a button was clicked in, through the click's
  ``response_url`` (written by the interactivity endpoint).
- ``anomaly_escalated``: written by ``crud_anomalies._revise`` when a revision raises an anomaly's
  severity tier above every tier the user was told (its creation tier and tiers announced before;
  ``from`` is that told tier). For each action of the anomaly with an approval request
  (``escalation.py``): a request still deferred to an unsent digest whose new severity is no longer
  a digest severity is posted now as its own alert (noted ``posted on escalation to <severity>``, so
  the digest leaves it out); a posted alert or digest gets a thread reply broadcast to the channel
  from the told severity to the anomaly's current one with the current figures, unless its thread
  already tells that tier (``shown_severity``: the alert was posted after the revision, or an
  earlier row replied) or the tier was lowered again meanwhile; a request not delivered yet needs
  nothing (it will show the current figures).

Where a message was posted (``{"channel", "ts"}``) is kept under ``payload["slack"]`` of the
outbox row that posted it, so later replies can find the thread without a new column.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from costguard_backend.core.config import Settings
from costguard_backend.core.db import bound_row_locks
from costguard_backend.models import Action, Anomaly, Outbox, RootCause
from costguard_backend.notify import slack
from costguard_backend.notify.routing import channel_for

# Unsent notifications are logged where the outbox logged them before Slack got its own module.
logger = logging.getLogger("costguard_backend.dispatch")

APPROVAL_REQUESTED = "approval_requested"  # the same strings as dispatch's constants
ACTION_FINISHED = "action_finished"
SLACK_DIGEST = "slack_digest"
SLACK_RESPONSE = "slack_response"
ANOMALY_ESCALATED = "anomaly_escalated"
KINDS = (APPROVAL_REQUESTED, ACTION_FINISHED, SLACK_DIGEST, SLACK_RESPONSE, ANOMALY_ESCALATED)
NOT_CONFIGURED = "logged: SLACK_BOT_TOKEN not set"


class NotifyError(Exception):
    """This attempt failed and should be retried."""


def deliver(settings: Settings, session: Session, row: Outbox) -> str | None:
    """Deliver one row of ``KINDS``; return a note (why nothing was posted) or None."""
    try:
        if row.kind == APPROVAL_REQUESTED:
            return _approval(settings, session, row)
        if row.kind == ACTION_FINISHED:
            return _finished(settings, session, row)
        if row.kind == SLACK_DIGEST:
            return _digest(settings, session, row)
        if row.kind == SLACK_RESPONSE:
            _response(settings, session, row)
            return None
        if row.kind == ANOMALY_ESCALATED:
            # Imported here: escalation.py builds on this module's helpers.
            from costguard_backend.notify.escalation import escalate

            return escalate(settings, session, row)
    except SlackApiError as exc:
        raise NotifyError(f"Slack answered {exc.response.get('error')}") from exc
    except slack.SlackResponseError as exc:
        raise NotifyError(str(exc)) from exc
    except (OSError, ValueError) as exc:  # urllib transport errors; bad SLACK_ROUTES
        raise NotifyError(f"Slack unreachable or misconfigured: {exc}") from exc
    raise NotifyError(f"not a Slack kind: {row.kind!r}")


def alert_info(settings: Settings, session: Session, action: Action) -> slack.AlertInfo:
    """What an alert shows about ``action`` and its anomaly."""
    anomaly = session.get(Anomaly, action.anomaly_id)
    base: dict[str, Any] = {
        "action_id": action.id,
        "title": action.title,
        "link": f"{settings.PUBLIC_URL.rstrip('/')}/api/v1/actions/{action.id}",
        "status": action.status,
        "risk": action.risk,
        "estimated_monthly_saving_usd": str(action.estimated_monthly_saving_usd),
    }
    if anomaly is None:
        return slack.AlertInfo(**base)
    causes = session.scalars(
        select(RootCause)
        .where(col(RootCause.anomaly_id) == anomaly.id)
        .order_by(col(RootCause.rank))
    ).all()
    return slack.AlertInfo(
        **base,
        severity=anomaly.severity,
        impact=f"{anomaly.impact_usd:,.2f}",
        currency=anomaly.scope.get("BillingCurrency", "USD"),
        window=f"{anomaly.start} → {anomaly.end}",
        scope=", ".join(f"{k}={v}" for k, v in sorted(anomaly.scope.items())),
        root_causes=tuple(
            f"{rc.ServiceName} {rc.ResourceId or rc.SubAccountId or ''} ({rc.share:.0%})".strip()
            for rc in causes[:5]
        ),
    )


def _post(
    settings: Settings, row: Outbox, message: dict[str, Any], driver: Outbox | None = None
) -> str | None:
    """Post ``message`` for ``row`` (where it went is kept on ``row``). ``driver``: the outbox
    row being delivered, when it is not ``row`` (an escalation posting a request's alert)."""
    if not settings.SLACK_BOT_TOKEN:
        logger.info("notification (Slack not configured): %s", message["text"])
        return NOT_CONFIGURED
    channel, ts = send_once(settings, driver or row, message)
    # Reassigned (not mutated) so the JSON column is saved with the worker's commit.
    row.payload = {**row.payload, "slack": {"channel": channel, "ts": ts}}
    return None


#: Seconds before an outbox row's creation from which its messages are looked for (clock skew
#: between the database and Slack).
HISTORY_SKEW_S = 300.0


def send_once(settings: Settings, driver: Outbox, message: dict[str, Any]) -> tuple[str, str]:
    """Post ``message`` (``slack.send``) unless an earlier attempt of ``driver``, the outbox row
    being delivered, already did: from its second attempt on, the channel history since the
    row was created is searched for the message's idempotency key (``slack.find_posted``). An
    earlier attempt may have posted and then not committed (its host died, the answer was
    lost, or the post outlasted its lease and the server ended its transaction). Where the
    history cannot be read (no ``channels:history`` scope, no ``channels:read`` to find the id
    of a channel given by name, or any other failure: whether Slack is reachable at all is the
    post's to find out) the message is posted again, logged at WARNING: at-least-once, as
    before. Returns ``(channel, ts)``."""
    token = settings.SLACK_BOT_TOKEN or ""
    if driver.attempts > 1:
        created = driver.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        try:
            found = slack.find_posted(
                token,
                settings.SLACK_BASE_URL,
                message,
                created.timestamp() - HISTORY_SKEW_S,
                settings.OUTBOX_HTTP_TIMEOUT_S,
            )
        except (SlackApiError, SlackClientError, OSError, LookupError, ValueError) as exc:
            why = (
                f"Slack answered {exc.response.get('error')}"
                if isinstance(exc, SlackApiError)
                else f"{type(exc).__name__}: {exc}"
            )
            logger.warning(
                "outbox %s (%s) attempt %s: cannot read %s's history for an earlier attempt's "
                "post (%s); posting it (it may appear twice)",
                driver.id,
                driver.kind,
                driver.attempts,
                message["channel"],
                why,
            )
        else:
            if found is not None:
                logger.info(
                    "outbox %s (%s) attempt %s: already posted by an earlier attempt (%s %s)",
                    driver.id,
                    driver.kind,
                    driver.attempts,
                    *found,
                )
                return found
    return slack.send(token, settings.SLACK_BASE_URL, message, settings.OUTBOX_HTTP_TIMEOUT_S)


def _key(row: Outbox) -> str:
    return row.idempotency_key or f"outbox-{row.id}"


def _approval(settings: Settings, session: Session, row: Outbox) -> str | None:
    # This request row locked until the worker commits, before the anomaly's severity is read:
    # an escalation locks it too before deciding (``escalation.py``), so either the escalation
    # went first and this reads the raised severity, or it waits for this commit and finds the
    # request posted or deferred (and then posts it at once), never "not delivered yet" while
    # this defers a request that is critical by now.
    bound_row_locks(settings, session)
    session.refresh(row, with_for_update=True)
    action = session.get(Action, row.action_id, populate_existing=True)
    if action is None:
        raise NotifyError(f"action {row.action_id} does not exist")
    anomaly = session.get(Anomaly, action.anomaly_id, populate_existing=True)
    channel = channel_for(settings, session, anomaly)
    if anomaly is not None and anomaly.severity in digest_severities(settings):
        day = row.created_at.astimezone(UTC).date()
        key = f"slack-digest-{day}-{channel}"
        digest = session.scalars(select(Outbox).where(col(Outbox.idempotency_key) == key)).first()
        if digest is not None and digest.status == "pending":
            # Locked and re-read, until the worker commits: a digest being sent holds a lock on
            # its row from before it reads its list until it is committed (``_digest``), so this
            # waits and finds it delivered, rather than noting the request deferred to a digest
            # that has left without it. (A digest found delivered or dead stays so: no lock.)
            session.refresh(digest, with_for_update=True)
        if digest is None:
            # Added now; or created by another worker meanwhile, then locked and read as above:
            # a pending digest is joined, one found delivered posts this request on its own.
            digest = _add_digest(settings, session, day, channel, key)
        if digest is None or digest.status == "pending":
            return deferred_note(day.isoformat(), channel)
    return post_alert(settings, session, row, action, channel)


def _add_digest(
    settings: Settings, session: Session, day: date, channel: str, key: str
) -> Outbox | None:
    """Insert the ``slack_digest`` row ``key`` of ``day`` and ``channel`` now, in a savepoint,
    and return None; if another worker's row holds the key, return that row, locked.

    With several backend replicas two first requests of a day and channel can both find no
    digest row. On PostgreSQL the second insert waits on the unique index for the first
    transaction's end (at most one lease: ``bound_row_locks``, set by ``_approval`` before the
    savepoint, which a savepoint's rollback keeps) and fails once it commits. Only the savepoint
    is rolled back: the row is read again, locked (``FOR UPDATE``, as a pending digest found by
    ``_approval``), rather than the worker's commit failing on the key. No deadlock: the waiting
    worker holds its own pending request; the inserting one holds its own pending request and
    the digest row, which no other transaction sees until it commits, and waits for nothing
    more (it has decided to defer); a digest waits only for deferred requests, never a pending
    one."""
    send_at = datetime.combine(day + timedelta(days=1), time(settings.SLACK_DIGEST_HOUR_UTC))
    try:
        with session.begin_nested():
            session.add(
                Outbox(
                    kind=SLACK_DIGEST,
                    payload={"day": day.isoformat(), "channel": channel},
                    idempotency_key=key,
                    next_attempt_at=send_at.replace(tzinfo=UTC),
                )
            )
            session.flush()
    except IntegrityError:
        digest = session.scalars(
            select(Outbox)
            .where(col(Outbox.idempotency_key) == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if digest is None:  # not the key: some other constraint
            raise
        return digest
    return None


def post_alert(
    settings: Settings,
    session: Session,
    request: Outbox,
    action: Action,
    channel: str,
    driver: Outbox | None = None,
) -> str | None:
    """Post the approval alert of ``request`` (an ``approval_requested`` row) for ``action`` in
    ``channel``; where it went is kept on ``request``, and the severity tier it showed under
    ``payload["shown_severity"]`` (so an escalation it already shows is not announced again).
    ``driver``: the outbox row being delivered when it is not ``request`` (``send_once``)."""
    info = alert_info(settings, session, action)
    approvals = int(request.payload.get("required_approvals", action.required_approvals))
    message = slack.approval_message(
        channel=channel, info=info, approvals=approvals, idempotency_key=_key(request)
    )
    note = _post(settings, request, message, driver)
    if note is None and info.severity:
        request.payload = {**request.payload, "shown_severity": info.severity}
    return note


def digest_severities(settings: Settings) -> set[str]:
    return {s.strip() for s in settings.SLACK_DIGEST_SEVERITIES.split(",")}


def deferred_note(day: str, channel: str) -> str:
    return f"deferred to Slack digest {day} {channel}"


def _digest(settings: Settings, session: Session, row: Outbox) -> str | None:
    day, channel = str(row.payload["day"]), str(row.payload["channel"])
    bound_row_locks(settings, session)
    # This row, then the requests it lists, locked until the worker commits (the digest
    # delivered, or the attempt failed). A request being deferred locks this row (FOR UPDATE)
    # before reading its status (``_approval``), so either its note is committed before the
    # list is read, or it waits and finds the digest delivered. FOR KEY SHARE conflicts with
    # that lock only, not with the UPDATE of ``OutboxWorker._claim``: if this worker's host
    # dies mid-post, another claims the row after the lease without waiting for this lock.
    # An escalation locks a request before taking it out of the digest (``escalation.py``), so
    # either this waits and no longer finds it (PostgreSQL re-checks the condition on the row
    # the escalation committed), or the escalation waits and finds the digest delivered.
    # No deadlock: here a digest row is locked before the requests it lists, in id order, and
    # those are deferred (delivered) requests; ``_approval`` waits for a digest row (or for the
    # transaction inserting it, ``_add_digest``, which then waits for nothing) holding one
    # request, a pending one, which no digest lists; an escalation holds one request and waits
    # for nothing until its commit. SQLite ignores these locks; a backend process runs one
    # worker, which delivers rows one by one.
    session.refresh(row, with_for_update={"read": True, "key_share": True})
    deferred = session.scalars(
        select(Outbox)
        .where(
            col(Outbox.kind) == APPROVAL_REQUESTED,
            col(Outbox.last_error) == deferred_note(day, channel),
        )
        .order_by(col(Outbox.id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    infos = []
    for r in deferred:
        action = session.get(Action, r.action_id)
        if action is not None:
            infos.append(alert_info(settings, session, action))
    if not infos:
        return "nothing deferred"
    message = slack.digest_message(channel=channel, day=day, items=infos, idempotency_key=_key(row))
    return _post(settings, row, message)


def thread_of(session: Session, action_id: int) -> dict[str, str] | None:
    """``{"channel", "ts"}`` of the alert (or digest) that asked for ``action_id``'s approval."""
    request = session.scalars(
        select(Outbox).where(col(Outbox.idempotency_key) == f"approval-requested-{action_id}")
    ).first()
    if request is None:
        return None
    if "slack" in request.payload:
        return dict(request.payload["slack"])
    digest = digest_of(session, request)
    if digest is not None and "slack" in digest.payload:
        return dict(digest.payload["slack"])
    return None


def digest_of(session: Session, request: Outbox) -> Outbox | None:
    """The ``slack_digest`` row ``request`` is deferred to (None if it is not deferred)."""
    note = request.last_error or ""
    if not note.startswith("deferred to Slack digest "):
        return None
    day, channel = note.removeprefix("deferred to Slack digest ").split(" ", 1)
    key = f"slack-digest-{day}-{channel}"
    # Re-read even if loaded (the worker's session does not expire rows on commit): another
    # worker may have delivered the digest since.
    stmt = select(Outbox).where(col(Outbox.idempotency_key) == key)
    return session.scalars(stmt.execution_options(populate_existing=True)).first()


def _finished(settings: Settings, session: Session, row: Outbox) -> str | None:
    p = row.payload
    thread = thread_of(session, row.action_id or 0)
    message = slack.result_message(
        channel=thread["channel"] if thread else settings.SLACK_CHANNEL,
        action_id=row.action_id or 0,
        status=str(p.get("status")),
        summary=str(p.get("summary", "")),
        idempotency_key=_key(row),
        thread_ts=thread["ts"] if thread else None,
    )
    return _post(settings, row, message)


def _response(settings: Settings, session: Session, row: Outbox) -> None:
    p = row.payload
    action = session.get(Action, row.action_id) if row.action_id else None
    if p["outcome"] == "refused" or action is None:
        body: dict[str, Any] = {
            "response_type": "ephemeral",
            "replace_original": False,
            "text": f"Not applied: {p.get('error') or 'action not found'}",
        }
    else:
        verdict = {
            "approved": f":white_check_mark: Approved by {p['actor']} in Slack",
            "rejected": f":x: Rejected by {p['actor']} in Slack",
        }.get(p["outcome"], f"{p['actor']} approved in Slack; more approvers are needed")
        info = alert_info(settings, session, action)
        text = f"{verdict}: {info.title} (now {action.status})"
        if p.get("replace", True):
            blocks = slack.alert_blocks(
                info, f"*{text}*", with_buttons=action.status == "pending_approval"
            )
            body = {"replace_original": True, "text": text, "blocks": blocks}
        else:
            body = {"response_type": "ephemeral", "replace_original": False, "text": text}
    slack.respond(str(p["response_url"]), body, settings.OUTBOX_HTTP_TIMEOUT_S)

"""Which Slack channel an anomaly's alert goes to, and which CostGuard principal a Slack user is.

``SLACK_ROUTES`` is a YAML list (inline, or the path of a YAML file); the first rule that matches
wins, else ``SLACK_CHANNEL``::

    - {channel: "#data-alerts", tag: {owner: data-platform}}   # every tag pair must match
    - {channel: "#acct-2222", SubAccountId: "222222222222"}
    - {channel: "#billing", BillingAccountId: "111111111111"}

A rule's keys must all match. An anomaly's accounts come from its scope and root causes; its
tags from the cost rows of its root-cause leaves during the anomaly window (at most
``TAG_ROWS`` rows read). ``SLACK_USER_MAP`` is ``U123=alice,U456=bob``. Bad configuration raises
``ValueError`` naming the rule (1-based) or entry and the field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from sqlalchemy import select
from sqlmodel import Session, col

from costguard_backend.core.config import Settings
from costguard_backend.models import Anomaly, CostDaily, RootCause
from costguard_backend.savings import scope_filters, scope_where

TAG_ROWS = 500


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str
    tag: dict[str, str] | None = None
    SubAccountId: str | None = None
    BillingAccountId: str | None = None

    @model_validator(mode="after")
    def _has_matcher(self) -> Route:
        if not (self.tag or self.SubAccountId or self.BillingAccountId):
            raise ValueError("needs tag, SubAccountId or BillingAccountId")
        return self

    def matches(self, tags: set[tuple[str, str]], accounts: dict[str, set[str]]) -> bool:
        if self.tag and not set(self.tag.items()) <= tags:
            return False
        for field in ("SubAccountId", "BillingAccountId"):
            wanted = getattr(self, field)
            if wanted is not None and wanted not in accounts[field]:
                return False
        return True


@lru_cache(maxsize=8)
def load_routes(raw: str | None) -> tuple[Route, ...]:
    """Parse ``SLACK_ROUTES``; raises ``ValueError`` naming the rule and field."""
    if not raw or not raw.strip():
        return ()
    text = raw
    if "\n" not in raw and Path(raw).is_file():
        text = Path(raw).read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"SLACK_ROUTES: not YAML: {exc}") from exc
    if not isinstance(doc, list):
        raise ValueError("SLACK_ROUTES: expected a YAML list of rules")
    routes = []
    for n, rule in enumerate(doc, start=1):
        try:
            routes.append(Route.model_validate(rule))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "rule"
            raise ValueError(f"SLACK_ROUTES rule {n}: {where}: {err['msg']}") from exc
    return tuple(routes)


@lru_cache(maxsize=8)
def parse_user_map(raw: str) -> dict[str, str]:
    """``U123=alice,U456=bob`` → ``{"U123": "alice", ...}``; raises ``ValueError`` naming the
    malformed entry (1-based)."""
    out: dict[str, str] = {}
    for n, entry in enumerate((e.strip() for e in raw.split(",")), start=1):
        if not entry:
            continue
        user, sep, principal = (p.strip() for p in entry.partition("="))
        if not sep or not user or not principal:
            raise ValueError(f"SLACK_USER_MAP entry {n}: expected SLACKUSERID=principal")
        out[user] = principal
    return out


def approver_for(settings: Settings, slack_user: str) -> str | None:
    """The CostGuard principal a Slack user acts as, if it is mapped and the principal holds the
    approver or admin role in COSTGUARD_API_KEYS; else None."""
    name = parse_user_map(settings.SLACK_USER_MAP).get(slack_user)
    if name is None:
        return None
    roles = {p.role for p in settings.api_keys.values() if p.name == name}
    return name if roles & {"approver", "admin"} else None


def channel_for(settings: Settings, session: Session, anomaly: Anomaly | None) -> str:
    """The channel of the first matching rule, else ``SLACK_CHANNEL``."""
    routes = load_routes(settings.SLACK_ROUTES)
    if not routes or anomaly is None:
        return settings.SLACK_CHANNEL
    accounts: dict[str, set[str]] = {"SubAccountId": set(), "BillingAccountId": set()}
    for field in accounts:
        if anomaly.scope.get(field):
            accounts[field].add(anomaly.scope[field])
    causes = session.scalars(select(RootCause).where(col(RootCause.anomaly_id) == anomaly.id))
    for rc in causes:
        for field in accounts:
            if getattr(rc, field):
                accounts[field].add(getattr(rc, field))
    tags = _tags(session, anomaly)
    for route in routes:
        if route.matches(tags, accounts):
            return route.channel
    return settings.SLACK_CHANNEL


def _tags(session: Session, anomaly: Anomaly) -> set[tuple[str, str]]:
    currency = anomaly.scope.get("BillingCurrency", "USD")
    rows = session.scalars(
        select(col(CostDaily.Tags))
        .where(
            scope_where(scope_filters(session, anomaly), currency),
            col(CostDaily.ChargePeriodStart) >= anomaly.start,
            col(CostDaily.ChargePeriodStart) <= anomaly.end,
        )
        .limit(TAG_ROWS)
    )
    return {(str(k), str(v)) for tags in rows for k, v in (tags or {}).items()}

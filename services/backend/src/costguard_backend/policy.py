"""Safety rules and budget caps for actions, read from a YAML file (``POLICY_FILE``).

The file is validated when the backend starts: ``load_policy`` raises ``PolicyFileError`` naming
the file and the field (``allowed_actions.aws.production[0]: ...``). Without a file every rule
is off except ``high_risk_approvers`` (2). ``config/policy.example.yaml`` documents each rule.

A violated rule raises ``PolicyViolation(rule, message)``; the API answers 422 at proposal and
409 at approval/execution with ``{"error": "policy_violation", "rule": ..., "message": ...}`` and
audits the refusal. Money is compared per ``BillingCurrency``: never summed across currencies,
and spend in a currency the cap does not name is refused rather than converted.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from costguard_core.detection.monitors import yaml_problem
from costguard_core.models import ActionType
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlmodel import Session, col

from costguard_backend.core.sqltypes import utcnow
from costguard_backend.models import Action, CostDaily

#: Days of billing that make up the "monthly spend" an action touches (ending at the resource's
#: latest billed day, so late-arriving billing data still counts).
SPEND_WINDOW_DAYS = 30


class PolicyFileError(ValueError):
    """The policy file is missing, not YAML, or a field is invalid (message names both)."""


class PolicyViolation(Exception):
    """An action breaks ``rule`` (a policy field name)."""

    def __init__(self, rule: str, message: str, status_code: int = 409) -> None:
        super().__init__(f"{rule}: {message}")
        self.rule = rule
        self.message = message
        self.status_code = status_code

    def detail(self) -> dict[str, str]:
        return {"error": "policy_violation", "rule": self.rule, "message": self.message}


class Policy(BaseModel):
    """``allowed_actions``: provider → environment (or ``"*"``) → action types; ``None`` allows
    every action. ``max_monthly_spend``: BillingCurrency → cap on the resource's last-30-day
    EffectiveCost. ``allowed_image_digests``: empty allows any executor image."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    protected_tags: dict[str, str] = Field(default_factory=lambda: {"costguard:protect": "true"})
    allowed_actions: dict[str, dict[str, list[ActionType]]] | None = None
    max_actions_per_day: int | None = Field(default=None, ge=0)
    max_monthly_spend: dict[str, Decimal] | None = None
    high_risk_approvers: int = Field(default=2, ge=1, le=10)
    allowed_image_digests: list[str] = Field(default_factory=list)

    def required_approvals(self, risk: str) -> int:
        return self.high_risk_approvers if risk == "high" else 1


def load_policy(path: str | Path | None) -> Policy:
    """The policy in ``path`` (YAML mapping), or the defaults when ``path`` is None."""
    if path is None:
        return Policy()
    try:
        raw = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise PolicyFileError(f"policy file {path}: cannot read: {exc}") from exc
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"policy file {path}: not valid YAML: {yaml_problem(exc)}") from exc
    try:
        return Policy.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        field = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in first["loc"]).replace(
            ".[", "["
        )
        raise PolicyFileError(
            f"policy file {path}: field {field or '(root)'}: {first['msg']}"
            + (f" ({len(exc.errors())} errors in all)" if len(exc.errors()) > 1 else "")
        ) from exc


def _resource_ids(action: Action) -> list[str]:
    ids = [str(r) for r in action.parameters.get("resource_ids", []) if r]
    return ids or ([action.resource_id] if action.resource_id else [])


def resource_tags(session: Session, resource_id: str) -> dict[str, str]:
    """Tags of the resource's most recently billed cost row (``{}`` if never billed)."""
    row = session.scalars(
        select(CostDaily)
        .where(col(CostDaily.ResourceId) == resource_id)
        .order_by(col(CostDaily.ChargePeriodStart).desc())
        .limit(1)
    ).first()
    return dict(row.Tags) if row else {}


def monthly_spend(session: Session, resource_id: str) -> dict[str, Decimal]:
    """EffectiveCost per BillingCurrency over the resource's last SPEND_WINDOW_DAYS billed days."""
    last = session.scalar(
        select(func.max(CostDaily.ChargePeriodStart)).where(
            col(CostDaily.ResourceId) == resource_id
        )
    )
    if last is None:
        return {}
    rows = session.scalars(
        select(CostDaily).where(
            col(CostDaily.ResourceId) == resource_id,
            col(CostDaily.ChargePeriodStart) > last - timedelta(days=SPEND_WINDOW_DAYS),
        )
    )
    totals: dict[str, Decimal] = {}
    for row in rows:  # summed in Python: exact Decimals on SQLite too
        totals[row.BillingCurrency] = (
            totals.get(row.BillingCurrency, Decimal(0)) + row.EffectiveCost
        )
    return totals


def check_proposal(policy: Policy, session: Session, action: Action) -> None:
    """Rules that depend only on the action and its resources; raises ``PolicyViolation``."""
    resources = _resource_ids(action)
    tags_by_resource = {r: resource_tags(session, r) for r in resources}
    for rid, tags in tags_by_resource.items():
        hit = {k: v for k, v in policy.protected_tags.items() if tags.get(k, "").lower() == v}
        if hit:
            raise PolicyViolation("protected_tags", f"resource {rid} is tagged {hit}")
    if policy.allowed_actions is not None:
        env = str(
            action.parameters.get("environment")
            or next((t.get("environment") for t in tags_by_resource.values() if t), None)
            or "*"
        )
        by_env = policy.allowed_actions.get(action.provider)
        if by_env is None:
            raise PolicyViolation(
                "allowed_actions", f"no action is allowed for provider {action.provider!r}"
            )
        allowed = by_env.get(env, by_env.get("*", []))
        if action.action_type not in allowed:
            raise PolicyViolation(
                "allowed_actions",
                f"{action.action_type} is not allowed for {action.provider} in environment "
                f"{env!r} (allowed: {sorted(allowed)})",
            )
    if policy.max_monthly_spend is not None:
        totals: dict[str, Decimal] = {}
        for rid in resources:
            for currency, amount in monthly_spend(session, rid).items():
                totals[currency] = totals.get(currency, Decimal(0)) + amount
        for currency, amount in sorted(totals.items()):
            cap = policy.max_monthly_spend.get(currency)
            if cap is None:
                raise PolicyViolation(
                    "max_monthly_spend", f"resources bill in {currency}, which has no cap"
                )
            if amount > cap:
                raise PolicyViolation(
                    "max_monthly_spend",
                    f"resources spent {amount} {currency} in {SPEND_WINDOW_DAYS} days, "
                    f"above the cap of {cap} {currency}",
                )


def check_daily_limit(policy: Policy, session: Session) -> None:
    """``max_actions_per_day``: actions approved since 00:00 UTC today (before this one)."""
    if policy.max_actions_per_day is None:
        return
    midnight = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    done = session.scalar(
        select(func.count()).select_from(Action).where(col(Action.approved_at) >= midnight)
    )
    if (done or 0) >= policy.max_actions_per_day:
        raise PolicyViolation(
            "max_actions_per_day",
            f"{done} actions already approved today (UTC); the limit is "
            f"{policy.max_actions_per_day}",
        )


def check_image_digest(policy: Policy, digest: str | None) -> None:
    """``allowed_image_digests``: the executing process's image must be listed (if any are)."""
    if policy.allowed_image_digests and digest not in policy.allowed_image_digests:
        raise PolicyViolation(
            "allowed_image_digests", f"executor image {digest!r} is not an allowed digest"
        )


def describe(policy: Policy) -> dict[str, Any]:
    """The active policy as JSON (for ``GET /api/v1/policy``)."""
    return policy.model_dump(mode="json")

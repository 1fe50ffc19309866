"""``GET /api/v1/policy``: the active execution policy (``POLICY_FILE``), for the executor's
pre-checks (its image digest must be in ``allowed_image_digests`` before it executes anything)
and for operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from costguard_backend.api.deps import PolicyDep, Reader
from costguard_backend.policy import describe

router = APIRouter(prefix="/policy", tags=["policy"])


@router.get("")
def read_policy(policy: PolicyDep, _: Reader) -> dict[str, Any]:
    """The policy as JSON: ``protected_tags``, ``allowed_actions``, ``max_actions_per_day``,
    ``max_monthly_spend`` (BillingCurrency → decimal string), ``high_risk_approvers`` and
    ``allowed_image_digests`` (empty: any image may execute)."""
    return describe(policy)

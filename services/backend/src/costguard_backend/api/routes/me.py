"""``GET /api/v1/me``: who the API key belongs to (any authenticated role)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from costguard_backend.api.deps import CurrentPrincipal

router = APIRouter(tags=["auth"])


class Me(BaseModel):
    """``principal`` is the name audit events record; ``role`` one of viewer, approver, agent,
    admin."""

    principal: str
    role: str


@router.get("/me", response_model=Me)
def me(principal: CurrentPrincipal) -> Me:
    """401 without a known API key."""
    return Me(principal=principal.name, role=principal.role)

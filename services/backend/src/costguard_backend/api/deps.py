"""FastAPI dependencies: database session, settings, request id, and API-key principals.

Auth is ``Authorization: Bearer <secret>`` against ``COSTGUARD_API_KEYS``: no or unknown key →
401, a role outside the route's list → 403. Every role may read.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from costguard_backend.core.config import Principal, Settings
from costguard_backend.core.db import session_scope
from costguard_backend.policy import Policy

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def get_policy_dep(request: Request) -> Policy:
    return request.app.state.policy


def get_db(request: Request) -> Iterator[Session]:
    yield from session_scope(request.app.state.engine)


def get_request_id(request: Request) -> str:
    return request.state.request_id


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[Session, Depends(get_db)]
PolicyDep = Annotated[Policy, Depends(get_policy_dep)]
RequestIdDep = Annotated[str, Depends(get_request_id)]


def get_current_principal(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller named by the bearer key; raises 401 without a known key."""
    unauthorized = HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail={"error": "unauthorized", "message": "missing or unknown API key"},
        headers={"WWW-Authenticate": "Bearer"},
    )
    if credentials is None:
        raise unauthorized
    given = credentials.credentials.encode()
    found: Principal | None = None
    # Compare against every key so timing does not reveal how many or which keys exist.
    for secret, principal in settings.api_keys.items():
        if hmac.compare_digest(secret.encode(), given):
            found = principal
    if found is None:
        raise unauthorized
    return found


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


def require_roles(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency admitting only ``roles`` (403 otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail={"error": "forbidden", "role": principal.role, "allowed": list(roles)},
            )
        return principal

    return check


Reader = Annotated[Principal, Depends(require_roles("viewer", "approver", "agent", "admin"))]
Writer = Annotated[Principal, Depends(require_roles("agent", "admin"))]
Approver = Annotated[Principal, Depends(require_roles("approver", "admin"))]

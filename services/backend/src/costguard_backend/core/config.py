"""Backend settings, read once from the environment (pydantic-settings).

``COSTGUARD_API_KEYS`` is ``principal:role:secret,...``. With ``ENVIRONMENT=local`` and no keys the
documented dev keys below are used; outside local, missing keys, dev keys or the dev webhook secret
make ``Settings()`` raise ``ValueError`` so a deployment never runs on published secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Role = Literal["viewer", "approver", "agent", "admin"]
ROLES: tuple[str, ...] = ("viewer", "approver", "agent", "admin")

#: Published development keys: accepted only when ENVIRONMENT=local.
DEV_API_KEYS = (
    "admin:admin:dev-admin-key,approver:approver:dev-approver-key,"
    "viewer:viewer:dev-viewer-key,agent:agent:dev-agent-key"
)
DEV_WEBHOOK_SECRET = "dev-webhook-secret"
_DEV_SECRETS = {entry.split(":")[2] for entry in DEV_API_KEYS.split(",")}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: ``name`` is the actor written to audit events."""

    name: str
    role: str


def parse_api_keys(raw: str) -> dict[str, Principal]:
    """Parse ``principal:role:secret,...`` into ``{secret: Principal}``.

    Raises ``ValueError`` naming the entry (1-based) that is malformed, has an unknown role, or
    repeats a secret.
    """
    keys: dict[str, Principal] = {}
    for n, entry in enumerate((e.strip() for e in raw.split(",")), start=1):
        if not entry:
            continue
        parts = entry.split(":", 2)
        if len(parts) != 3 or not all(p.strip() for p in parts):
            raise ValueError(f"COSTGUARD_API_KEYS entry {n}: expected principal:role:secret")
        name, role, secret = (p.strip() for p in parts)
        if role not in ROLES:
            raise ValueError(f"COSTGUARD_API_KEYS entry {n}: role {role!r} not in {ROLES}")
        if secret in keys:
            raise ValueError(f"COSTGUARD_API_KEYS entry {n}: secret repeats an earlier entry")
        keys[secret] = Principal(name=name, role=role)
    return keys


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    ENVIRONMENT: str = "local"
    HOST: str = "127.0.0.1"
    PORT: int = 8000
    DATABASE_URL: str = "sqlite:///./var/costguard.db"
    COSTGUARD_API_KEYS: str = ""
    ARCHESTRA_API_URL: str | None = None
    ARCHESTRA_API_TOKEN: str | None = None
    ARCHESTRA_WEBHOOK_SECRET: str = ""
    EXECUTOR_URL: str = "http://127.0.0.1:8010"
    EXECUTOR_TOKEN: str | None = None
    IMAGE_DIGEST: str = "local"
    OUTBOX_WORKER: bool = True
    OUTBOX_POLL_INTERVAL_S: float = Field(default=2.0, gt=0)
    OUTBOX_MAX_ATTEMPTS: int = Field(default=8, ge=1)
    OUTBOX_BACKOFF_BASE_S: float = Field(default=1.0, gt=0)
    OUTBOX_BACKOFF_MAX_S: float = Field(default=300.0, gt=0)
    OUTBOX_HTTP_TIMEOUT_S: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        local = self.ENVIRONMENT == "local"
        if not self.COSTGUARD_API_KEYS:
            if not local:
                raise ValueError(
                    f"COSTGUARD_API_KEYS must be set when ENVIRONMENT={self.ENVIRONMENT}"
                )
            self.COSTGUARD_API_KEYS = DEV_API_KEYS
        keys = parse_api_keys(self.COSTGUARD_API_KEYS)
        if not keys:
            raise ValueError("COSTGUARD_API_KEYS holds no keys")
        if not local and _DEV_SECRETS & keys.keys():
            raise ValueError(f"COSTGUARD_API_KEYS uses a dev key; refused in {self.ENVIRONMENT}")
        if not self.ARCHESTRA_WEBHOOK_SECRET:
            if not local:
                raise ValueError(f"ARCHESTRA_WEBHOOK_SECRET must be set in {self.ENVIRONMENT}")
            self.ARCHESTRA_WEBHOOK_SECRET = DEV_WEBHOOK_SECRET
        elif not local and self.ARCHESTRA_WEBHOOK_SECRET == DEV_WEBHOOK_SECRET:
            raise ValueError(
                f"ARCHESTRA_WEBHOOK_SECRET is the dev secret; refused in {self.ENVIRONMENT}"
            )
        return self

    @property
    def api_keys(self) -> dict[str, Principal]:
        """``{secret: Principal}`` parsed from COSTGUARD_API_KEYS."""
        return parse_api_keys(self.COSTGUARD_API_KEYS)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read from the environment on first call)."""
    return Settings()

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
    # resume: the seed's POST {url}/api/v1/webhooks/workflow/resume; a2a: Archestra's agent
    # trigger POST {url}/v1/a2a/{ARCHESTRA_AGENT_ID} with Bearer ARCHESTRA_API_TOKEN.
    ARCHESTRA_MODE: Literal["resume", "a2a"] = "resume"
    ARCHESTRA_AGENT_ID: str | None = None
    POLICY_FILE: str | None = None
    SLACK_BOT_TOKEN: str | None = None
    SLACK_CHANNEL: str = "#costguard"
    SLACK_BASE_URL: str = "https://slack.com/api/"
    # Slack interactivity and routing (issue #6; see notify/ and docs/architecture.md "Slack").
    SLACK_SIGNING_SECRET: str | None = None
    SLACK_USER_MAP: str = ""  # "U123=alice,U456=bob": Slack user id -> CostGuard principal
    SLACK_ROUTES: str | None = None  # YAML list of routing rules, or the path of a YAML file
    SLACK_DIGEST_SEVERITIES: str = "low"  # comma-separated severities sent in the daily digest
    SLACK_DIGEST_HOUR_UTC: int = Field(default=9, ge=0, le=23)
    SLACK_RESPONSE_URL_PREFIX: str = "https://hooks.slack.com/"
    SAVINGS_HORIZON_DAYS: int = Field(default=30, ge=1, le=366)
    PUBLIC_URL: str = "http://127.0.0.1:8000"
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
    # How long a claimed row stays invisible to other workers; a killed worker's row comes due
    # again after it. Unset: 3 x OUTBOX_HTTP_TIMEOUT_S + 30 s.
    OUTBOX_LEASE_S: float | None = Field(default=None, gt=0)

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
        a2a = self.ARCHESTRA_MODE == "a2a" and self.ARCHESTRA_API_URL
        if a2a and not (self.ARCHESTRA_AGENT_ID and self.ARCHESTRA_API_TOKEN):
            raise ValueError("ARCHESTRA_MODE=a2a needs ARCHESTRA_AGENT_ID and ARCHESTRA_API_TOKEN")
        return self

    @property
    def api_keys(self) -> dict[str, Principal]:
        """``{secret: Principal}`` parsed from COSTGUARD_API_KEYS."""
        return parse_api_keys(self.COSTGUARD_API_KEYS)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read from the environment on first call)."""
    return Settings()

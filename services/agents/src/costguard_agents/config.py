"""Agent settings, read from environment variables (pydantic-settings).

With ``ENVIRONMENT=local`` unset secrets fall back to the published development values
(``COSTGUARD_API_KEY=dev-agent-key``, ``ARCHESTRA_WEBHOOK_SECRET=dev-webhook-secret``), matching the
backend's dev keys. Outside local, an unset or development secret makes the settings class raise
``ValueError`` at start-up, so no deployment runs on published secrets.
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_AGENT_KEY = "dev-agent-key"
DEV_WEBHOOK_SECRET = "dev-webhook-secret"


class AgentSettings(BaseSettings):
    """What every agent needs: where it listens and how it reaches the backend."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    ENVIRONMENT: str = "local"
    HOST: str = "127.0.0.1"
    PORT: int
    BACKEND_URL: str = "http://127.0.0.1:8000"
    COSTGUARD_API_KEY: str | None = None
    BACKEND_TIMEOUT_S: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _api_key(self) -> AgentSettings:
        local = self.ENVIRONMENT == "local"
        if not self.COSTGUARD_API_KEY:
            if not local:
                raise ValueError(
                    f"COSTGUARD_API_KEY must be set when ENVIRONMENT={self.ENVIRONMENT}"
                )
            self.COSTGUARD_API_KEY = DEV_AGENT_KEY
        elif not local and self.COSTGUARD_API_KEY == DEV_AGENT_KEY:
            raise ValueError(f"COSTGUARD_API_KEY is the dev key; refused in {self.ENVIRONMENT}")
        return self


class ExecutorSettings(AgentSettings):
    """Executor: MCP server URL, webhook secret, optional bearer token for ``/execute``, and the
    report retry budget (exponential backoff between ``REPORT_BACKOFF_S`` and 30 s)."""

    PORT: int = 8010
    MCP_URL: str = "http://127.0.0.1:8765/mcp"
    MCP_TIMEOUT_S: float = Field(default=30.0, gt=0)
    ARCHESTRA_WEBHOOK_SECRET: str | None = None
    EXECUTOR_TOKEN: str | None = None
    # False lets the MCP server make the real call (it also needs MCP_EXECUTE_PROVIDERS there).
    EXECUTOR_DRY_RUN: bool = True
    IMAGE_DIGEST: str = "local"
    # "Still costly" pre-check: a resource whose latest billed day cost no more than this (in its
    # own BillingCurrency) is not executed on. Resources with no billing rows are not refused.
    EXECUTOR_MIN_DAILY_SPEND: Decimal = Field(default=Decimal(0), ge=0)
    HEALTH_CHECK_TIMEOUT_S: float = Field(default=5.0, gt=0)
    POLICY_CACHE_S: float = Field(default=10.0, ge=0)
    REPORT_ATTEMPTS: int = Field(default=6, ge=1)
    REPORT_BACKOFF_S: float = Field(default=0.5, gt=0)

    @model_validator(mode="after")
    def _webhook_secret(self) -> ExecutorSettings:
        local = self.ENVIRONMENT == "local"
        if not self.ARCHESTRA_WEBHOOK_SECRET:
            if not local:
                raise ValueError(f"ARCHESTRA_WEBHOOK_SECRET must be set in {self.ENVIRONMENT}")
            self.ARCHESTRA_WEBHOOK_SECRET = DEV_WEBHOOK_SECRET
        elif not local and self.ARCHESTRA_WEBHOOK_SECRET == DEV_WEBHOOK_SECRET:
            raise ValueError(
                f"ARCHESTRA_WEBHOOK_SECRET is the dev secret; refused in {self.ENVIRONMENT}"
            )
        return self


class DetectiveSettings(AgentSettings):
    """Detective: ``DETECTIVE_INTERVAL_S`` > 0 runs a scan that often (seconds); 0 = on demand."""

    PORT: int = 8011
    DETECTIVE_INTERVAL_S: float = Field(default=0.0, ge=0)


class OptimizerSettings(AgentSettings):
    """Optimizer: ``OPTIMIZER_INTERVAL_S`` > 0 proposes actions that often (s); 0 = on demand."""

    PORT: int = 8012
    OPTIMIZER_INTERVAL_S: float = Field(default=0.0, ge=0)

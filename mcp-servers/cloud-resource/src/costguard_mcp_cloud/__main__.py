"""``python -m costguard_mcp_cloud``: serve the tools over streamable HTTP at ``/mcp``."""

from __future__ import annotations

from typing import Annotated

from mcp.server.transport_security import TransportSecuritySettings
from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from costguard_mcp_cloud.server import srv


class Settings(BaseSettings):
    """``HOST``/``PORT`` to bind; ``MCP_ALLOWED_HOSTS``: extra ``Host`` header values to accept
    (comma-separated, e.g. ``cloud-resource:8765,cloud-resource:*`` for a compose hostname).
    Localhost is always accepted; any other Host is refused with 421 (DNS-rebinding guard)."""

    model_config = SettingsConfigDict(env_ignore_empty=True, extra="ignore")

    HOST: str = "127.0.0.1"
    PORT: int = 8765
    MCP_ALLOWED_HOSTS: Annotated[list[str], NoDecode] = []

    @field_validator("MCP_ALLOWED_HOSTS", mode="before")
    @classmethod
    def _split(cls, v: object) -> object:
        if isinstance(v, str):
            return [h.strip() for h in v.split(",") if h.strip()]
        return v


LOCAL_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Host/Origin allow-list: localhost plus ``MCP_ALLOWED_HOSTS`` (as http/https origins too)."""
    hosts = LOCAL_HOSTS + settings.MCP_ALLOWED_HOSTS
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(allowed_hosts=hosts, allowed_origins=origins)


def main() -> None:
    settings = Settings()
    srv.run(
        transport="streamable-http",
        host=settings.HOST,
        port=settings.PORT,
        streamable_http_path="/mcp",
        stateless_http=True,
        json_response=True,
        transport_security=transport_security(settings),
    )


if __name__ == "__main__":
    main()

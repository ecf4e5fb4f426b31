"""Settings, read once from ``EYELEVEL_*`` environment variables (``*_FILE`` for secrets)."""

from __future__ import annotations

import ipaddress
import secrets
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eyelevel.core.rules.mail import MailPolicy

MIN_SECRET = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EYELEVEL_", frozen=True, extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./eyelevel.db"
    redis_url: str | None = None
    redis_channel: str = "eyelevel:events"
    data_dir: Path = Path("./data")
    secret_key: SecretStr | None = None
    secret_key_file: Path | None = None
    smtp_url: SecretStr | None = None
    mail_from: str = "eyelevel <noreply@localhost>"
    # inbound email (docs/email.md): where `serve` (and `eyelevel smtp`) listen for SMTP, e.g.
    # "127.0.0.1:2525" (unset: `serve` receives no mail); the largest mail accepted; the name
    # the listener greets with; domains company inbound addresses must be in (empty: any)
    smtp_listen: str | None = None
    smtp_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    smtp_hostname: str = "localhost"
    mail_domains: list[str] = Field(default_factory=list)
    public_url: str = "http://127.0.0.1:8000"
    allowed_origins: list[str] = Field(default_factory=list)
    cookie_secure: bool | None = None
    run_worker: bool = True
    job_lease_seconds: float = Field(default=120.0, gt=0)
    # webhooks (docs/operations.md): plain http only for development receivers; networks
    # (CIDR) that endpoints may reach although private, loopback or otherwise non-public
    webhook_allow_http: bool = False
    webhook_allowed_networks: list[str] = Field(default_factory=list)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # web push (docs/operations.md): the same guard for push endpoints; plain http and
    # non-public networks only for a development push service
    push_allow_http: bool = False
    push_allowed_networks: list[str] = Field(default_factory=list)
    push_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # VAPID "sub": how a push service reaches the operator (mailto: or https:); default: the
    # address of mail_from
    push_contact: str | None = None
    # rate limits (docs/operations.md): requests per window; 0 turns one limit off
    rate_limit_enabled: bool = True
    rate_limit_window_seconds: int = Field(default=60, ge=1, le=3600)
    rate_limit_per_ip: int = Field(default=1200, ge=0)
    rate_limit_per_token: int = Field(default=600, ge=0)
    rate_limit_ws_per_ip: int = Field(default=120, ge=0)
    rate_limit_signin_window_seconds: int = Field(default=900, ge=1, le=86400)
    rate_limit_signin_per_account: int = Field(default=10, ge=0)
    rate_limit_signin_per_ip: int = Field(default=100, ge=0)
    # proxies (CIDR) whose X-Forwarded-For names the client; empty: the peer is the client
    trusted_proxies: list[str] = Field(default_factory=list)
    log_level: str = "info"

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @field_validator("webhook_allowed_networks", "push_allowed_networks", "trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for network in v:
            ipaddress.ip_network(network.strip(), strict=False)  # ValueError: refused at start
        return v

    @field_validator("mail_domains")
    @classmethod
    def _domains(cls, v: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in v if d.strip()]

    def mail_policy(self) -> MailPolicy:
        """What the core needs to know about mail: our own sender (mail from it is a loop)
        and the domains inbound addresses may be in."""
        own = {a.lower() for _, a in getaddresses([self.mail_from]) if a}
        return MailPolicy(own_addresses=frozenset(own), inbound_domains=tuple(self.mail_domains))

    @field_validator("push_contact")
    @classmethod
    def _contact(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("mailto:", "https://")):
            raise ValueError("EYELEVEL_PUSH_CONTACT must start with mailto: or https://")
        return v

    @field_validator("redis_url", "secret_key_file", "smtp_listen", "push_contact", mode="before")
    @classmethod
    def _empty_is_none(cls, v: object) -> object:
        return None if v == "" else v

    def origins(self) -> frozenset[str]:
        """Origins allowed to open a WebSocket with a session cookie."""
        parts = urlsplit(self.public_url)
        return frozenset({f"{parts.scheme}://{parts.netloc}", *self.allowed_origins})

    def vapid_subject(self) -> str:
        """The VAPID ``sub`` claim (RFC 8292): the push contact, else mail_from's address."""
        if self.push_contact:
            return self.push_contact
        address = parseaddr(self.mail_from)[1] or "noreply@localhost"
        return f"mailto:{address}"

    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")

    def resolve_secret_key(self) -> str:
        """The signing key: from the environment, a file, or generated once into the data dir.

        In production a missing or short key is refused (fails closed).
        """
        if self.secret_key is not None:
            key = self.secret_key.get_secret_value()
        elif self.secret_key_file is not None:
            key = self.secret_key_file.read_text().strip()
        elif self.env == "production":
            raise SystemExit("EYELEVEL_SECRET_KEY (or _FILE) is required in production")
        else:
            path = self.data_dir / "secret_key"
            if not path.exists():
                self.data_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_urlsafe(48))
                path.chmod(0o600)
            key = path.read_text().strip()
        weak = len(key) < MIN_SECRET or len(set(key)) < 10
        if weak and self.env == "production":
            raise SystemExit(f"EYELEVEL_SECRET_KEY is weak: use {MIN_SECRET}+ random characters")
        return key

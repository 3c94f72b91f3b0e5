"""Settings of the mailbox service (environment variables prefixed `OZG_MAILBOX_`)."""

from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings


class MailboxSettings(ServiceSettings):
    """Where mailbox listens, its database, its Kafka, SMTP for notices and retention."""

    model_config = SettingsConfigDict(env_prefix="OZG_MAILBOX_", extra="ignore")

    service_name: ClassVar[str] = "mailbox"
    default_port: ClassVar[int] = 8005

    smtp_host: str = ""
    """Empty: email notices are switched off (recorded as skipped)."""
    smtp_port: int = 25
    smtp_from: str = "postfach@ozg-router.invalid"
    smtp_tls: Literal["off", "starttls", "implicit"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout: float = 10.0
    notice_poll_interval: float = 2.0
    notice_retry_base: float = 5.0
    """First retry delay after an SMTP failure; doubles with every attempt (capped at one hour)."""
    notice_max_attempts: int = 12

    message_max_age: timedelta = timedelta(days=365)
    """Messages older than this are deleted for real by the retention job."""
    retention_interval: float = 3600.0

    reply_max_content_chars: int = 20_000
    reply_max_attachments: int = 5
    reply_max_total_bytes: int = 512 * 1024
    """Replies travel inline through Kafka (1 MiB per record), base64 adds a third."""

    blob_dir: Path | None = None
    """Attachment files; default `<var_dir>/mailbox-blobs`."""

    citizen_issuer: str = ""
    """`iss` of citizens' tokens when they log in at their own IdP (BundID, a state's OIDC provider);
    empty: citizens' tokens come from the suite's issuer (`token_issuer`, `jwks_url`) like all others."""
    citizen_jwks_url: str = ""
    """The citizen IdP's JWKS; empty: the `jwks_uri` of the issuer's discovery document."""
    citizen_audience: str = ""
    """Required with `citizen_issuer`: a citizen token's `aud` must name it. An IdP shared by many
    services issues tokens for each of them; a token meant for another service must not open the
    mailbox, and an ID token (`aud`: the web client) is not an access token."""
    citizen_token_types: str = "at+jwt,application/at+jwt"
    """The `typ` headers the citizen IdP writes on access tokens (comma-separated); `*`: any, for an
    IdP that writes a generic `JWT` on every token (then only the audience sets access tokens apart)."""

    citizen_oidc_client_id: str = ""
    """The web page's client id at the citizen IdP (OpenID Connect, found by discovery under
    `citizen_issuer`); empty: the web page has no login. With mock-oauth2-server it equals
    `citizen_audience`, since that provider names one audience in both tokens."""
    citizen_oidc_client_secret: SecretStr = SecretStr("")
    """Empty: a public client, kept safe by PKCE alone."""
    citizen_oidc_scopes: str = "openid citizen"

    @model_validator(mode="after")
    def _citizen_idp_complete(self) -> "MailboxSettings":
        if self.citizen_jwks_url and not self.citizen_issuer:
            raise ValueError("citizen_jwks_url needs citizen_issuer (whose keys they are)")
        if self.citizen_audience and not self.citizen_issuer:
            # The suite's issuer writes no `aud`: every citizen would be locked out.
            raise ValueError("citizen_audience needs citizen_issuer (the suite's tokens carry no aud)")
        if self.citizen_issuer and not self.citizen_audience:
            raise ValueError("citizen_issuer needs citizen_audience (this mailbox's client id at the IdP)")
        if self.citizen_oidc_client_id and not self.citizen_issuer:
            raise ValueError("citizen_oidc_client_id needs citizen_issuer (where citizens log in)")
        return self

    @property
    def citizen_token_type_set(self) -> frozenset[str] | None:
        """`citizen_token_types` as the token verifier takes them (None: any)."""
        types = {part.strip().lower() for part in self.citizen_token_types.split(",") if part.strip()}
        return None if "*" in types else frozenset(types)

    @property
    def separate_citizen_idp(self) -> bool:
        """Citizens log in elsewhere than operators get their tokens."""
        return bool(self.citizen_issuer)

    @property
    def web_login(self) -> bool:
        """The web page signs citizens in at the citizen IdP."""
        return bool(self.citizen_oidc_client_id)

    @property
    def oidc_redirect_uri(self) -> str:
        """Where the IdP sends the browser back with the code; registered there for this client."""
        return self.public_base_url.rstrip("/") + "/web/auth/callback"

    @property
    def blob_root(self) -> Path:
        return self.blob_dir or self.var_dir / "mailbox-blobs"

    @property
    def web_url(self) -> str:
        """The citizen's web page, linked from email notices."""
        return self.public_base_url.rstrip("/") + "/web/"

"""Settings of the kop-gateway service (environment variables prefixed `OZG_KOP_GATEWAY_`)."""

import base64
import binascii
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from ozg_common.keys import MIN_RSA_BITS
from ozg_common.settings import ServiceSettings, refuse_placeholder
from ozg_common.webhooks import MASTER_SECRET_FILE, canonical_host, load_or_create_secret

SECRET_KEY_FILE = "secrets/kop-gateway-secret-encryption-key"


class KopGatewaySettings(ServiceSettings):
    """Where kop-gateway listens, how it retries, whom it may call and how it signs."""

    model_config = SettingsConfigDict(env_prefix="OZG_KOP_GATEWAY_", extra="ignore")

    service_name: ClassVar[str] = "kop_gateway"
    default_port: ClassVar[int] = 8003

    signing_master_secret: SecretStr = SecretStr("")
    """Derives the webhook secret of destinations without an explicit one; a file under var/ if unset."""
    secret_encryption_key: SecretStr = SecretStr("")
    """base64 of 32 bytes (AES-256-GCM) encrypting explicit webhook secrets; a file under var/ if unset."""
    secret_rotation_overlap: float = 86400.0
    """Seconds a replaced webhook secret keeps signing beside the new one."""

    keys_dir: Path | None = None
    """Where the key signing the decisions the gateway records lives (created on first start);
    default `keys` under var_dir. Its public half is published at /.well-known/jwks.json, and the
    SETs it signs name `public_base_url` as their `iss`."""
    event_key_bits: int = Field(default=MIN_RSA_BITS, ge=MIN_RSA_BITS)
    """Size of that key when it is created (BSI TR-02102-1: at least 3072)."""

    retry_schedule: list[float] = Field(default_factory=lambda: [5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0])
    """Delays (seconds) after the 1st, 2nd, … failed attempt."""
    retry_interval: float = 10800.0
    """Delay between attempts once the schedule is used up."""
    retry_horizon: float = 259200.0
    """Seconds after which a delivery that never succeeded is dead-lettered (3 days)."""
    retry_jitter: float = 0.2
    """Each delay is varied by up to ± this fraction, so retries of a burst spread out."""
    max_retry_after: float = 86400.0
    """A receiver's Retry-After is honoured up to this many seconds."""

    request_timeout: float = 15.0
    claim_lease: float = 0.0
    """How long a claimed delivery is reserved for its attempt (default: request timeout + 30 s).
    A worker that dies mid-attempt leaves it to be claimed again after this."""
    poll_interval: float = 0.5
    claim_debounce: float = 0.05
    """Seconds the worker waits after a wake-up so one claim picks up several new deliveries."""
    claim_batch: int = 200
    max_in_flight: int = 256
    destination_concurrency: int = 8
    destination_rate_limit: float = 50.0
    """Requests per second per destination (token bucket)."""
    destination_rate_burst: int = 50
    breaker_failure_threshold: int = 5
    """Consecutive failures that open a destination's circuit."""
    breaker_cooldown: float = 60.0
    """Seconds an open circuit waits before one probe is let through."""

    allowed_hosts: list[str] = Field(default_factory=list)
    """Host names, IP addresses or networks (10.20.0.0/16) that may be called although they are not
    public; in any notation (case, IDNA or Unicode, a trailing dot, compressed IPv6 or not)."""
    allow_loopback: bool = False
    allow_http: bool = False

    reply_attachment_max_bytes: int = 10 * 1024 * 1024
    reply_max_bytes: int = 30 * 1024 * 1024
    """Largest accepted reply request body (base64 attachments included)."""

    @field_validator("retry_schedule")
    @classmethod
    def _positive_schedule(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays must not be negative")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _canonical_hosts(cls, value: list[str]) -> list[str]:
        return [canonical_host(entry) for entry in value]

    @model_validator(mode="after")
    def _secrets(self) -> "KopGatewaySettings":
        if self.keys_dir is None:
            self.keys_dir = self.var_dir / "keys"
        if not self.claim_lease:
            self.claim_lease = self.request_timeout + 30.0
        if not self.signing_master_secret.get_secret_value():
            self.signing_master_secret = SecretStr(load_or_create_secret(self.var_dir / MASTER_SECRET_FILE))
        refuse_placeholder("signing_master_secret", self.signing_master_secret.get_secret_value())
        if not self.secret_encryption_key.get_secret_value():
            raw = load_or_create_secret(self.var_dir / SECRET_KEY_FILE)
            self.secret_encryption_key = SecretStr(base64.b64encode(raw.encode()[:32]).decode())
        refuse_placeholder("secret_encryption_key", self.secret_encryption_key.get_secret_value())
        try:
            key = base64.b64decode(self.secret_encryption_key.get_secret_value(), validate=True)
        except binascii.Error as exc:
            raise ValueError("secret_encryption_key must be base64") from exc
        if len(key) != 32:
            raise ValueError("secret_encryption_key must decode to 32 bytes")
        return self

    @property
    def keys_path(self) -> Path:
        assert self.keys_dir is not None
        return self.keys_dir

    @property
    def encryption_key_bytes(self) -> bytes:
        return base64.b64decode(self.secret_encryption_key.get_secret_value())

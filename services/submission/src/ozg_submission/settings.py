"""Settings of the submission service (environment variables prefixed `OZG_SUBMISSION_`)."""

from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from ozg_common.keys import MIN_RSA_BITS
from ozg_common.settings import ServiceSettings
from ozg_common.webhooks import canonical_host

MiB = 1024 * 1024


class SubmissionSettings(ServiceSettings):
    """Where submission listens, its keys, blobs, limits and retention periods."""

    model_config = SettingsConfigDict(env_prefix="OZG_SUBMISSION_", extra="ignore")

    service_name: ClassVar[str] = "submission"
    default_port: ClassVar[int] = 8002

    zufi_url: str = "http://127.0.0.1:8001"
    route_cache_seconds: float = 60.0
    bootstrap_clients_file: Path | None = None
    token_lifetime: int = 1800
    token_failure_rate: float = 1.0
    """Failed `/token` requests per second allowed per source address and per client id (from the
    addresses it did not authenticate from lately), per replica."""
    token_failure_burst: int = 10
    """Failed `/token` requests allowed at once per source address and per client id."""
    token_check_rate: float = 5.0
    """Secret checks (one scrypt each) per second for clients not verified lately, per replica: what
    guesses from many addresses for many client ids can cost in CPU at most."""
    token_check_burst: int = 20
    """Such secret checks allowed at once, per replica."""
    token_verified_seconds: float = 3600.0
    """How long a verified secret is taken again without a scrypt, and an address a client
    authenticated from is spared the client's ration after its last token, in this replica."""
    token_registry_seconds: float = 5.0
    """How long a verified client's registry entry is taken again without reading it, in this
    replica: a deactivation or rotation made elsewhere reaches this replica that much later
    (`RegistryRefresh` re-reads the entries twice per period)."""
    keys_dir: Path | None = None
    event_key_bits: int = Field(default=MIN_RSA_BITS, ge=MIN_RSA_BITS)
    """Size of the SET signing key created on first start (BSI TR-02102-1: at least 3072); RSA signing
    holds the GIL and its cost grows with the cube of the size, so larger keys cost every event log read."""
    blob_dir: Path | None = None

    # FIT-Connect's limits
    max_attachment_bytes: int = 500 * MiB
    max_attachments: int = 100
    max_submission_bytes: int = 2048 * MiB
    max_application_bytes: int = 64 * MiB
    """Native intake: the whole request (JSON, XML or multipart with attachments)."""
    inline_attachment_limit: int = 256 * 1024
    """Attachments up to this size travel inside `submission.ready_for_delivery`."""
    event_inline_budget: int = 640 * 1024
    """What one event may carry inline in total, below Kafka's 1 MB message limit."""

    # Security Event Tokens a destination posts (accept/reject)
    event_token_max_age: timedelta = timedelta(minutes=30)
    """How long after its `iat` a posted SET is still taken."""
    event_token_clock_skew: timedelta = timedelta(seconds=60)
    """How far the destination's clock may run ahead of ours."""

    # Decisions kop-gateway signs for the KOP webservice destinations it answers for
    kop_gateway_issuer: str = "http://127.0.0.1:8003"
    """The `iss` of kop-gateway's SETs (its public base URL): a decision it announces signed by anyone
    else is not logged."""
    kop_gateway_jwks_url: str = "http://127.0.0.1:8003/.well-known/jwks.json"
    """Where kop-gateway publishes the key its SETs verify with (fetched, kept 5 minutes)."""

    # Sender callbacks (standards.md §1): new events on a sender's submission
    callback_allow_http: bool = False
    """Take plain-HTTP callback URLs (development and tests only): a callback carries no content, but
    its signature and the sender's URL deserve TLS."""
    callback_allow_loopback: bool = False
    """Call callback URLs on this machine (development and tests only)."""
    callback_allowed_hosts: list[str] = Field(default_factory=list)
    """Host names, IP addresses or networks that callbacks may call although they are not public (as
    kop-gateway's `allowed_hosts`); other non-public addresses are never called."""
    callback_poll_interval: float = 1.0
    callback_batch: int = 100
    callback_timeout: float = 15.0
    callback_retry_schedule: list[float] = Field(
        default_factory=lambda: [5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0]
    )
    """Delays (seconds) after the 1st, 2nd, … failed call; then `callback_retry_interval`."""
    callback_retry_interval: float = 10800.0
    callback_retry_horizon: timedelta = timedelta(days=3)
    """A callback failing this long is given up; the sender still reads the event log itself."""

    # Retention (standards.md §1)
    retention_interval: float = 300.0
    retention_incomplete_after: timedelta = timedelta(days=1)
    retention_awaiting_payment_after: timedelta = timedelta(days=21)
    retention_after_pickup: timedelta = timedelta(days=7)
    retention_reminders: list[timedelta] = Field(
        default_factory=lambda: [timedelta(days=3), timedelta(days=9)]
    )
    retention_auto_reject_after: timedelta = timedelta(days=14)
    retention_unpicked_delete_after: timedelta = timedelta(days=21)
    retention_event_log_after: timedelta = timedelta(days=730)

    @field_validator("callback_allowed_hosts")
    @classmethod
    def _canonical_hosts(cls, value: list[str]) -> list[str]:
        return [canonical_host(entry) for entry in value]

    @model_validator(mode="after")
    def _fill_paths(self) -> "SubmissionSettings":
        if self.keys_dir is None:
            self.keys_dir = self.var_dir / "keys"
        if self.blob_dir is None:
            self.blob_dir = self.var_dir / "blobs" / "submission"
        return self

    @property
    def keys_path(self) -> Path:
        assert self.keys_dir is not None
        return self.keys_dir

    @property
    def blob_path(self) -> Path:
        assert self.blob_dir is not None
        return self.blob_dir

"""Settings of the mailbox service (environment variables prefixed `OZG_MAILBOX_`)."""

from datetime import timedelta
from pathlib import Path
from typing import ClassVar, Literal

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
    smtp_password: str = ""
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

    @property
    def blob_root(self) -> Path:
        return self.blob_dir or self.var_dir / "mailbox-blobs"

    @property
    def web_url(self) -> str:
        """The citizen's web page, linked from email notices."""
        return self.public_base_url.rstrip("/") + "/web/"

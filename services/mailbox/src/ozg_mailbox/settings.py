"""Settings of the mailbox service (environment variables prefixed `OZG_MAILBOX_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings


class MailboxSettings(ServiceSettings):
    """Where mailbox listens, its database and its Kafka."""

    model_config = SettingsConfigDict(env_prefix="OZG_MAILBOX_", extra="ignore")

    service_name: ClassVar[str] = "mailbox"
    default_port: ClassVar[int] = 8005

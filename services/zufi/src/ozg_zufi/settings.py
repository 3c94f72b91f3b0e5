"""Settings of the zufi service (environment variables prefixed `OZG_ZUFI_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings


class ZufiSettings(ServiceSettings):
    """Where zufi listens, its database and its Kafka."""

    model_config = SettingsConfigDict(env_prefix="OZG_ZUFI_", extra="ignore")

    service_name: ClassVar[str] = "zufi"
    default_port: ClassVar[int] = 8001

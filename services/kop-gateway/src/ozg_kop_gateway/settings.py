"""Settings of the kop-gateway service (environment variables prefixed `OZG_KOP_GATEWAY_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings


class KopGatewaySettings(ServiceSettings):
    """Where kop-gateway listens, its database and its Kafka."""

    model_config = SettingsConfigDict(env_prefix="OZG_KOP_GATEWAY_", extra="ignore")

    service_name: ClassVar[str] = "kop_gateway"
    default_port: ClassVar[int] = 8003

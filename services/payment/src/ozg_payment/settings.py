"""Settings of the payment service (environment variables prefixed `OZG_PAYMENT_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings


class PaymentSettings(ServiceSettings):
    """Where payment listens, its database and its Kafka."""

    model_config = SettingsConfigDict(env_prefix="OZG_PAYMENT_", extra="ignore")

    service_name: ClassVar[str] = "payment"
    default_port: ClassVar[int] = 8004

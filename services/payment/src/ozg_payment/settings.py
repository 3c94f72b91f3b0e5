"""Settings of the payment service (environment variables prefixed `OZG_PAYMENT_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings

SIMULATED_PROVIDER_PREFIX = "/simulated-provider"


class PaymentSettings(ServiceSettings):
    """Where payment listens, its database and Kafka, its provider and its clocks."""

    model_config = SettingsConfigDict(env_prefix="OZG_PAYMENT_", extra="ignore")

    service_name: ClassVar[str] = "payment"
    default_port: ClassVar[int] = 8004

    provider_url: str = ""
    """XBezahldienste base URL of the payment service provider; empty = the built-in simulated one."""
    provider_api_key: str = ""
    """Bearer credential sent to the provider (empty: none)."""
    provider_timeout: float = 10.0
    """Seconds one HTTP call to the provider may take."""

    transaction_timeout: float = 3600.0
    """Seconds a transaction may stay INITIAL before it becomes FAILED (abandoned checkout)."""
    recheck_interval: float = 60.0
    """Seconds between two status checks of a pending transaction with the provider."""
    reconciliation_window: float = 7 * 24 * 3600.0
    """Seconds a timed-out transaction is still re-checked so a late PAYED is noticed."""

    simulated_provider_enabled: bool = True
    """Serve the simulated provider (checkout page) under /simulated-provider."""
    simulated_provider_notifications: bool = True
    """Whether the simulated provider notifies the payment service (off: only re-checks find out)."""
    simulated_provider_api_key: str = ""
    """When set, the simulated provider's API demands this bearer credential."""

    @property
    def upstream_url(self) -> str:
        """The provider's XBezahldienste base URL."""
        return (self.provider_url or self.public_base_url + SIMULATED_PROVIDER_PREFIX).rstrip("/")

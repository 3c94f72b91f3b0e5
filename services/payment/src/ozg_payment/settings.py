"""Settings of the payment service (environment variables prefixed `OZG_PAYMENT_`)."""

from typing import ClassVar, Literal, Self

from pydantic import SecretStr, model_validator
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
    provider_auth: Literal["api-key", "oauth2", "mtls"] = "api-key"
    """How payment logs in at the provider: a static bearer key (the simulated provider), OAuth2
    client credentials, or mutual TLS with a client certificate (real ePayment providers)."""
    provider_api_key: SecretStr = SecretStr("")
    """`api-key`: the bearer credential sent to the provider (empty: none)."""
    provider_token_url: str = ""
    """`oauth2`: the provider's token endpoint (client_credentials, client_secret_post)."""
    provider_client_id: str = ""
    """`oauth2`: payment's client id at the provider."""
    provider_client_secret: SecretStr = SecretStr("")
    """`oauth2`: that client's secret."""
    provider_scope: str = ""
    """`oauth2`: the scope to ask for (empty: the provider's default)."""
    provider_client_cert: str = ""
    """`mtls`: PEM file of payment's client certificate (and chain)."""
    provider_client_key: str = ""
    """`mtls`: PEM file of that certificate's private key."""
    provider_ca_file: str = ""
    """PEM file of the CAs that sign the provider's server certificate (empty: the system's)."""
    provider_timeout: float = 10.0
    """Seconds one HTTP call to the provider may take."""
    provider_status_originator_id: str = "ozg-router"
    """originatorId of the provider's status check (`GET /status/...`) that /readyz asks."""
    provider_status_endpoint_id: str = "readiness"
    """endPointId of that status check."""

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
    simulated_provider_api_key: SecretStr = SecretStr("")
    """When set, the simulated provider's API demands this bearer credential."""

    @model_validator(mode="after")
    def _provider_login_complete(self) -> Self:
        missing = {
            "api-key": [],
            "oauth2": ["provider_token_url", "provider_client_id", "provider_client_secret"],
            "mtls": ["provider_client_cert", "provider_client_key"],
        }[self.provider_auth]
        if unset := [name for name in missing if not getattr(self, name)]:
            names = ", ".join("OZG_PAYMENT_" + name.upper() for name in unset)
            raise ValueError(f"OZG_PAYMENT_PROVIDER_AUTH={self.provider_auth} needs {names}")
        return self

    @property
    def upstream_url(self) -> str:
        """The provider's XBezahldienste base URL."""
        return (self.provider_url or self.public_base_url + SIMULATED_PROVIDER_PREFIX).rstrip("/")

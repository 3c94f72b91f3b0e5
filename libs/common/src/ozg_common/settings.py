"""Settings every service shares; each service subclasses with its own env prefix."""

from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ozg_common.kafka import KafkaSecurity, SaslMechanism, SecurityProtocol, bootstrap_hosts

PROJECT_ROOT = Path(__file__).resolve().parents[4]
"""The repository checkout; `var/` below it holds the embedded databases and blobs."""

PLACEHOLDER_SECRETS = frozenset({"changethis", "changeme", "secret", ""})


def default_var_dir() -> Path:
    return PROJECT_ROOT / "var"


class ServiceSettings(BaseSettings):
    """Base settings: database, Kafka, logging and the token issuer's JWKS."""

    # A refused value is not echoed in the error: it may be a secret (or a URL holding a password).
    model_config = SettingsConfigDict(env_file=None, extra="ignore", hide_input_in_errors=True)

    service_name: ClassVar[str] = "ozg"
    default_port: ClassVar[int] = 8000

    host: str = "127.0.0.1"
    port: int = 0
    public_base_url: str = ""
    database_url: SecretStr = SecretStr("")
    """SQLAlchemy URL; it may hold the database password, so it is a secret (`database_location`)."""
    database_pool_size: int = 20
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    """Comma-separated `host:port` of the brokers to start from (any reachable one finds the others)."""
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    """How every Kafka client of the service connects: SASL_SSL (TLS and a SCRAM login) in a data
    centre; PLAINTEXT only on a machine of one's own."""
    kafka_ssl_cafile: Path | None = None
    """PEM file of the CA the brokers' certificates chain to (SSL, SASL_SSL); unset: the system's CAs."""
    kafka_ssl_certfile: Path | None = None
    """PEM client certificate, for brokers that authenticate clients by TLS; with kafka_ssl_keyfile."""
    kafka_ssl_keyfile: Path | None = None
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str = ""
    kafka_sasl_password: SecretStr = SecretStr("")
    kafka_enabled: bool = True
    kafka_watch_interval: float = Field(default=5.0, gt=0)
    """Seconds between the checks that log when Kafka stops (and starts again) being usable."""
    topic_partitions: int | None = None
    topic_replication_factor: int | None = Field(default=None, ge=1)
    """Copies of each partition of the service's topics; unset: 3, fewer if the cluster has fewer brokers."""
    topic_min_insync_replicas: int | None = Field(default=None, ge=1)
    """`min.insync.replicas` of the topics the service creates; unset: all copies but one."""
    topic_auto_create: bool = True
    """Create missing topics at start-up (`make run`, tests). Off where a topics job creates them
    (production): a service started first must not create them with other settings; a missing topic
    then keeps /readyz failing, naming it."""
    topic_prefix: str = ""
    log_level: str = "INFO"
    var_dir: Path = Field(default_factory=default_var_dir)
    jwks_url: str = "http://127.0.0.1:8002/.well-known/jwks.json"
    token_issuer: str = "http://127.0.0.1:8002"
    outbox_poll_interval: float = 0.5
    outbox_round_interval: float = Field(default=0.5, ge=0)
    otlp_endpoint: str | None = None
    stop_timeout: float = Field(default=20.0, gt=0)
    """Seconds the background work (relay, consumers, jobs) gets to stop at shutdown; within the
    orchestrator's grace period (Kubernetes: 30 s), so a stuck task is reported instead of killed."""
    workers: int = Field(default=1, ge=1)
    """Processes serving on the one port (uvicorn workers, one per core), each with its own event loop,
    consumers and outbox relay, as replicas are; more than one needs PostgreSQL."""
    forwarded_allow_ips: str = ""
    """Proxies (addresses or networks, comma-separated; e.g. the ingress controller's pod network) whose
    `X-Forwarded-For` and `X-Forwarded-Proto` are believed. Empty: none, the peer's address counts,
    so a caller cannot choose the address its rate limits are kept under."""
    http_keep_alive: int = 75
    """Seconds an idle HTTP connection stays open. Longer than the idle timeout of the clients and load
    balancers in front (httpx 5 s, nginx 60 s): whoever closes first must be the client, or a request
    sent as the server hangs up fails with a connection reset."""

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap_list(cls, value: str) -> str:
        bootstrap_hosts(value)
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> "ServiceSettings":
        if not self.port:
            self.port = self.default_port
        if not self.database_url.get_secret_value():
            db_file = self.var_dir / f"{self.service_name}.sqlite3"
            self.database_url = SecretStr(f"sqlite+aiosqlite:///{db_file}")
        if not self.public_base_url:
            self.public_base_url = f"http://{self.host}:{self.port}"
        if (
            self.topic_min_insync_replicas is not None
            and self.topic_replication_factor is not None
            and self.topic_min_insync_replicas > self.topic_replication_factor
        ):
            raise ValueError("topic_min_insync_replicas cannot exceed topic_replication_factor")
        if self.kafka_security_protocol.startswith("SASL_"):
            if not self.kafka_sasl_username:
                raise ValueError(
                    f"kafka_security_protocol {self.kafka_security_protocol} needs kafka_sasl_username"
                )
            refuse_placeholder("kafka_sasl_password", self.kafka_sasl_password.get_secret_value())
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("kafka_ssl_certfile and kafka_ssl_keyfile go together")
        if self.workers > 1 and self.is_sqlite:
            raise ValueError("workers > 1 needs PostgreSQL: an SQLite file serves one process")
        return self

    @property
    def kafka_security(self) -> KafkaSecurity:
        """What every Kafka client of the service is given to encrypt and log in."""
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            cafile=self.kafka_ssl_cafile,
            certfile=self.kafka_ssl_certfile,
            keyfile=self.kafka_ssl_keyfile,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password,
        )

    @property
    def database_location(self) -> str:
        """The SQLAlchemy URL to connect with, password included: for `Database`, never for a log."""
        return self.database_url.get_secret_value()

    @property
    def is_sqlite(self) -> bool:
        return self.database_location.startswith("sqlite")


def refuse_placeholder(name: str, value: str) -> str:
    """Raise when a secret setting still holds a placeholder value."""
    if value.strip().lower() in PLACEHOLDER_SECRETS:
        raise ValueError(f"{name} must be set to a real secret, not a placeholder such as 'changeme'")
    return value

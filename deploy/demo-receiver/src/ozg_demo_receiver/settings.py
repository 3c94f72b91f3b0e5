"""Settings of the demo receiver (environment variables prefixed `OZG_DEMO_RECEIVER_`)."""

import json
from pathlib import Path
from typing import Any, ClassVar

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings, default_var_dir, refuse_placeholder
from ozg_common.webhooks import MASTER_SECRET_FILE, load_or_create_secret


class DemoReceiverSettings(ServiceSettings):
    """Where the receiver listens, whom it trusts and how it answers."""

    model_config = SettingsConfigDict(env_prefix="OZG_DEMO_RECEIVER_", extra="ignore")

    service_name: ClassVar[str] = "demo-receiver"
    default_port: ClassVar[int] = 8009

    kop_gateway_url: str = "http://127.0.0.1:8003"
    submission_url: str = "http://127.0.0.1:8002"
    signing_master_secret: SecretStr = SecretStr("")
    destination_secrets: dict[str, SecretStr] = {}
    """Explicit webhook secrets per destination id; all others are derived from the master secret."""
    timestamp_tolerance: int = 300
    destination_key_file: Path | None = None
    """The demo destinations' private JWK (default `var/demo-keys/destination-private.jwk.json`)."""
    client_id: str = "demo-receiver"
    client_secret: SecretStr = SecretStr("")
    clients_file: Path | None = None
    """The suite's bootstrap clients (default `var/clients.json`), read when `client_secret` is empty."""
    process_deliveries: bool = True
    """Decrypt and validate stored deliveries in the background (off: store only, for delivery benchmarks)."""
    auto_answer: bool = True
    reject_leika_keys: list[str] = []
    answer_concurrency: int = 4
    retry_after_seconds: float = 5.0
    control_token: SecretStr = SecretStr("")
    """When set, `/_control` requires `Authorization: Bearer <control_token>`."""

    @model_validator(mode="before")
    @classmethod
    def _own_directory(cls, data: Any) -> Any:
        # The receiver keeps its SQLite file and nothing else under var/demo-receiver/.
        if isinstance(data, dict) and not data.get("database_url"):
            var_dir = Path(data.get("var_dir") or default_var_dir())
            data["database_url"] = f"sqlite+aiosqlite:///{var_dir / 'demo-receiver' / 'receiver.sqlite3'}"
        return data

    @property
    def destination_key_path(self) -> Path:
        return self.destination_key_file or self.var_dir / "demo-keys" / "destination-private.jwk.json"

    @model_validator(mode="after")
    def _master_secret(self) -> "DemoReceiverSettings":
        # Read once, not per delivery (as kop-gateway does): the shared dev file when unset.
        if not self.signing_master_secret.get_secret_value():
            self.signing_master_secret = SecretStr(load_or_create_secret(self.var_dir / MASTER_SECRET_FILE))
        return self

    def master_secret(self) -> str:
        """The secret kop-gateway derives destination secrets from."""
        return refuse_placeholder(
            "OZG_DEMO_RECEIVER_SIGNING_MASTER_SECRET", self.signing_master_secret.get_secret_value()
        )

    def client_credentials(self) -> tuple[str, str]:
        """The receiver's OAuth client: from the settings, or looked up in the bootstrap clients file."""
        if secret := self.client_secret.get_secret_value():
            return self.client_id, secret
        path = self.clients_file or self.var_dir / "clients.json"
        if path.exists():
            for client in json.loads(path.read_text()):
                if client.get("client_id") == self.client_id and client.get("client_secret"):
                    return self.client_id, str(client["client_secret"])
        raise ValueError(
            f"no client secret for {self.client_id!r}: set OZG_DEMO_RECEIVER_CLIENT_SECRET or {path}"
        )

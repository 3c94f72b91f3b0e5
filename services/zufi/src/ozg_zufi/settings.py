"""Settings of the zufi service (environment variables prefixed `OZG_ZUFI_`)."""

from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings

DATA_DIR = Path(__file__).parent / "data"


class ZufiSettings(ServiceSettings):
    """Where zufi listens, its database and its Kafka, its area data and demo seed, its rate limit."""

    model_config = SettingsConfigDict(env_prefix="OZG_ZUFI_", extra="ignore")

    service_name: ClassVar[str] = "zufi"
    default_port: ClassVar[int] = 8001

    area_data_dir: Path = DATA_DIR
    seed_demo: bool = True
    demo_receiver_url: str = "http://127.0.0.1:8009"
    submission_api_url: str = "http://127.0.0.1:8002"
    """Where senders submit: its host is the `submissionHost` every destinationSignature names."""
    rate_limit_per_second: float = 200.0
    rate_limit_burst: int = 400
    signature_cache_size: int = 200_000
    route_cache_size: int = 20_000
    index_refresh_interval: float = 60.0

    @property
    def submission_host(self) -> str:
        return urlsplit(self.submission_api_url).netloc

    @property
    def signing_key_path(self) -> Path:
        """zufi's PS512 key for destinationSignatures (`python -m ozg_zufi rotate-signing-key`)."""
        return self.var_dir / "keys" / "zufi-destination-signing.json"

    @property
    def demo_key_path(self) -> Path:
        return self.var_dir / "demo-keys" / "destination-private.jwk.json"

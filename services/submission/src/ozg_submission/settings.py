"""Settings of the submission service (environment variables prefixed `OZG_SUBMISSION_`)."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from ozg_common.settings import ServiceSettings


class SubmissionSettings(ServiceSettings):
    """Where submission listens, its database and its Kafka."""

    model_config = SettingsConfigDict(env_prefix="OZG_SUBMISSION_", extra="ignore")

    service_name: ClassVar[str] = "submission"
    default_port: ClassVar[int] = 8002

"""Admin views of destinations and their (write-only) webhook secrets."""

from datetime import datetime

from pydantic import ConfigDict, Field

from ozg_common.openapi import examples
from ozg_common.schemas import Schema
from ozg_kop_gateway.deliveries.lanes import CircuitState


class SecretInfo(Schema):
    """A secret's lifetime; the secret itself is never shown again."""

    created_at: datetime
    retires_at: datetime | None


class DestinationView(Schema):
    id: str
    name: str
    authority_id: str
    status: str
    channel_type: str
    url: str | None
    signature_scheme: str
    updated_at: datetime
    circuit: CircuitState
    secrets: list[SecretInfo]
    """Explicit secrets still signing; empty means the secret derived from the master secret."""


class SecretUpdate(Schema):
    """A new webhook secret (`whsec_<base64>` for Standard Webhooks, or a plain string)."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "overlapSeconds": 86400}
        )
    )

    secret: str = Field(min_length=1, max_length=300)
    overlap_seconds: float | None = Field(default=None, ge=0, le=30 * 86400)
    """How long the previous secret keeps signing beside this one (default from the settings)."""

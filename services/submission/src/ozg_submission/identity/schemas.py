"""Token answers and the administration API's bodies."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ozg_common.openapi import examples
from ozg_common.schemas import Schema


class TokenAnswer(BaseModel):
    """RFC 6749 §5.1 (snake_case by that standard)."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


class ClientCreate(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "clientId": "portal-kiel",
                "scopes": ["send", "send:region:01"],
                "description": "Antragsportal der Stadt Kiel",
            }
        )
    )

    client_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]{2,199}$")
    scopes: list[str] = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)


class ClientUpdate(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"scopes": ["send"], "description": "Antragsportal der Stadt Kiel", "active": True}
        )
    )

    scopes: list[str] | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = None


class SecretRotation(Schema):
    model_config = ConfigDict(json_schema_extra=examples({"graceSeconds": 3600}))

    grace_seconds: int = Field(default=0, ge=0, le=7 * 24 * 3600)
    """How long the previous secret keeps working, so a client can switch without downtime."""


class ClientView(Schema):
    client_id: str
    scopes: list[str]
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    previous_secret_valid_until: datetime | None = None


class ClientWithSecret(ClientView):
    """Shown once, at creation or rotation: the secret is never stored in clear."""

    client_secret: str


class CitizenTokenRequest(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "subject": "bund-id-pseudonym-4711",
                "email": "erika.mustermann@example.org",
                "storkQaaLevel": "STORK-QAA-Level-3",
                "lifetime": 1800,
            }
        )
    )

    subject: str = Field(min_length=1, max_length=255)
    email: str | None = Field(default=None, max_length=254)
    stork_qaa_level: Literal[
        "STORK-QAA-Level-1", "STORK-QAA-Level-2", "STORK-QAA-Level-3", "STORK-QAA-Level-4"
    ] = "STORK-QAA-Level-3"
    lifetime: int = Field(default=1800, ge=60, le=86400)

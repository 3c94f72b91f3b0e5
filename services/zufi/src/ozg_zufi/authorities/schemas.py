"""Authorities (Organisationseinheiten) and their Zustellkanal (destination)."""

import uuid
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, HttpUrl, field_validator, model_validator

from ozg_common.contracts.zufi import METADATA_VERSIONS, MetadataVersion
from ozg_common.openapi import examples
from ozg_common.schemas import Schema
from ozg_zufi import identifiers
from ozg_zufi.errors import InvalidLeikaKey
from ozg_zufi.schemas import HttpsUrl


class Address(Schema):
    """An Anschrift as the Routing API names its parts."""

    street: str | None = Field(default=None, max_length=200)
    house_number: str | None = Field(default=None, max_length=20)
    additional: str | None = Field(default=None, max_length=200, description="Anschriftenzusatz.")
    zip: str | None = Field(default=None, pattern=r"^\d{5}$")
    city: str | None = Field(default=None, max_length=200)


class ContactPerson(Schema):
    """A Kontaktperson as the Routing API names its parts (plus the role, for the admin API)."""

    name: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    tel: str | None = Field(default=None, max_length=50)
    fax: str | None = Field(default=None, max_length=50)


class DestinationIn(Schema):
    """How applications reach the authority."""

    id: uuid.UUID | None = Field(default=None, description="Kept when given; generated otherwise.")
    status: Literal["active", "inactive"] = "active"
    channel_type: Literal["webservice", "fitconnect"] = "webservice"
    url: HttpUrl | None = Field(default=None, description="The KOP webservice endpoint.")
    signature_scheme: Literal["standard-webhooks", "fit-connect"] = "standard-webhooks"
    encryption_key: dict[str, Any] = Field(
        description="Public RSA JWK (≥ 4096 bits) with a kid; its certificate chain `x5c` (and `x5t`, "
        "`x5t#S256`), where given, is checked to certify the key, valid now, and published with it."
    )
    signing_key: dict[str, Any] | None = Field(
        default=None,
        description="Public RSA JWK (≥ 4096 bits, PS512) with a kid of its own: the authority signs "
        "its accept/reject Security Event Tokens with the private half. `x5c` as for the encryption key.",
    )
    services: list[str] = Field(default=[], description="LeiKa keys the destination accepts.")
    reply_channels: list[str] = []
    metadata_versions: list[MetadataVersion] = Field(
        default=list(METADATA_VERSIONS),
        min_length=1,
        description="The FIT-Connect metadata versions the destination takes; submissions carry the "
        "newest of them.",
    )

    @field_validator("services")
    @classmethod
    def _leika_keys(cls, keys: list[str]) -> list[str]:
        try:
            return list(dict.fromkeys(identifiers.leika_key(key) for key in keys))
        except InvalidLeikaKey as exc:
            raise ValueError(str(exc)) from None

    @field_validator("metadata_versions")
    @classmethod
    def _once_each(cls, versions: list[MetadataVersion]) -> list[MetadataVersion]:
        return list(dict.fromkeys(versions))

    @model_validator(mode="after")
    def _url_for_webservice(self) -> Self:
        if self.channel_type == "webservice" and self.url is None:
            raise ValueError("a webservice Zustellkanal needs its url")
        return self


class AuthorityIn(Schema):
    """An Organisationseinheit with its Zustellkanal."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "name": "Amt Achterwehr",
                "shortName": "Amt Achterwehr",
                "areaId": "010585801000",
                "address": {
                    "street": "Inspektor-Weimar-Weg",
                    "houseNumber": "17",
                    "postalCode": "24239",
                    "city": "Achterwehr",
                },
                "contactPersons": [
                    {
                        "name": "Bürgerbüro",
                        "email": "buergerbuero@amt-achterwehr.example",
                        "telephone": "04340 409-0",
                    }
                ],
                "destination": {
                    "url": "https://kop.amt-achterwehr.example/fachverfahren",
                    "encryptionKey": {
                        "kty": "RSA",
                        "kid": "achterwehr-2026",
                        "alg": "RSA-OAEP-256",
                        "e": "AQAB",
                        "n": "<4096-bit modulus, base64url>",
                    },
                    "services": ["99050035001000"],
                },
            }
        )
    )

    name: str = Field(min_length=1, max_length=300)
    short_name: str | None = Field(default=None, max_length=100)
    area_id: str = Field(description="ARS of the area the authority serves.")
    address: Address = Address()
    postal_address: Address = Field(default=Address(), description="Postanschrift.")
    contact_persons: list[ContactPerson] = Field(default=[], max_length=500)
    destination_logo: HttpsUrl | None = None
    privacy_policy_url: HttpsUrl | None = Field(default=None, description="Datenschutzerklärung.")
    imprint_url: HttpsUrl | None = Field(default=None, description="Impressum.")
    accessibility_url: HttpsUrl | None = Field(default=None, description="Barrierefreiheitserklärung.")
    contact_form_url: HttpsUrl | None = Field(default=None, description="Kontaktformular.")
    destination: DestinationIn


class DestinationOut(Schema):
    id: uuid.UUID
    status: str
    channel_type: str
    url: str | None
    signature_scheme: str
    encryption_kid: str
    signing_kid: str | None
    services: list[str] = Field(description="LeiKa keys its administrator declared (as written by PUT).")
    offered_services: list[str] = Field(
        description="What it offers: the declared services plus those routing sends it (read-only)."
    )
    reply_channels: list[str]
    metadata_versions: list[str]


class AuthorityOut(Schema):
    id: uuid.UUID
    name: str
    short_name: str | None
    area_id: str
    address: dict[str, Any]
    postal_address: dict[str, Any]
    contact_persons: list[dict[str, Any]]
    destination_logo: str | None
    privacy_policy_url: str | None
    imprint_url: str | None
    accessibility_url: str | None
    contact_form_url: str | None
    destination: DestinationOut | None
    updated_at: datetime


class PublicService(Schema):
    identifier: str
    leika_key: str


class PublicDestination(Schema):
    """What anyone may know about a destination (FIT-Connect: GET /v1/destinations/{id})."""

    destination_id: uuid.UUID
    status: str
    name: str
    encryption_kid: str
    services: list[PublicService]
    reply_channels: list[str]
    metadata_versions: list[str]

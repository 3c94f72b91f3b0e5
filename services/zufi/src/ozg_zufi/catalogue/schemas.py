"""The service catalogue's JSON shapes."""

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import ConfigDict, Field, model_validator

from ozg_common.openapi import examples
from ozg_common.schemas import Schema
from ozg_zufi.identifiers import LEIKA_URN_PREFIX
from ozg_zufi.schemas import Bearbeitungsdauer, Texte

Level = Literal["GEMEINDE", "AMT", "KREIS", "LAND"]


class FeeItem(Schema):
    """One fee position (XBezahldienste item)."""

    id: str = Field(min_length=1, max_length=100)
    description: str = Field(min_length=1, max_length=300)
    price: str = Field(pattern=r"^\d{1,9}\.\d{2}$", description='Euro with two decimals, e.g. "12.50".')
    quantity: int = Field(default=1, ge=1)
    tax_rate: str = Field(default="0", pattern=r"^\d{1,2}(\.\d{1,2})?$")
    booking_data: dict[str, str] = {}


class ServiceIn(Schema):
    """A Leistung as an administrator writes it."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "name": "Gewerbeanmeldung",
                "level": "AMT",
                "paymentRequired": True,
                "fees": [{"id": "GEW-AN", "description": "Gebühr Gewerbeanmeldung", "price": "26.00"}],
                "xmlSchemaNamespace": "urn:xoev-de:xgewerbeanzeige",
                "active": True,
            }
        )
    )

    name: str = Field(min_length=1, max_length=300)
    level: Level = Field(description="Who is responsible by default: Gemeinde, Amt, Kreis or Land.")
    payment_required: bool = False
    fees: list[FeeItem] = []
    form_schema: dict[str, Any] | None = Field(default=None, description="JSON Schema of the form data.")
    xml_schema_namespace: str | None = Field(default=None, max_length=500)
    xml_schema_location: str | None = Field(default=None, max_length=500)
    active: bool = True
    required_documents: Texte | None = Field(default=None, description="Erforderliche Unterlagen.")
    legal_basis: Texte | None = Field(default=None, description="Rechtsgrundlagen.")
    deadline: Texte | None = Field(default=None, description="Fristen.")
    processing_duration: Bearbeitungsdauer | None = Field(default=None, description="Bearbeitungsdauer.")

    @model_validator(mode="after")
    def _fees_when_paid(self) -> Self:
        if self.payment_required and not self.fees:
            raise ValueError("a service that requires payment needs at least one fee item")
        return self


class ServiceOut(ServiceIn):
    """A Leistung of the catalogue."""

    leika_key: str
    identifier: str
    updated_at: datetime

    @classmethod
    def urn(cls, leika_key: str) -> str:
        return LEIKA_URN_PREFIX + leika_key


class ServicesPage(Schema):
    count: int
    offset: int
    total_count: int
    services: list[ServiceOut]


class SyncRun(Schema):
    """One run of the job that recomputes which services the destinations offer."""

    services: list[str] | None = Field(description="The LeiKa keys recomputed; null: every one.")
    started_at: datetime
    finished_at: datetime | None = None
    destinations_to_change: int = Field(default=0, description="Destinations whose list was found stale.")
    destinations_changed: int = Field(default=0, description="Of those, rewritten and announced so far.")
    already_recomputed: bool = Field(
        default=False,
        description="A finished run (of any replica) had recomputed these services from the same "
        "routing data: nothing was read or written.",
    )
    error: str | None = None


class DestinationSyncStatus(Schema):
    """Whether every destination's `services` reflects the catalogue and responsibilities yet."""

    state: Literal["idle", "pending", "running"]
    pending_services: list[str] | None = Field(
        description="LeiKa keys waiting for the next run; null: every service."
    )
    waiting_for_another_replica: bool = Field(
        description="Another replica is running the job (one at a time): the pending services wait for it."
    )
    current: SyncRun | None
    last: SyncRun | None

"""Events of the competence finder (zufi): the read models other services keep."""

from typing import Any, Literal

from pydantic import BaseModel

from ozg_common.contracts.topics import ZUFI
from ozg_common.events import Event

MetadataVersion = Literal["2.1.0", "1.0.0"]
"""A FIT-Connect metadata version the suite writes."""
METADATA_VERSIONS: tuple[MetadataVersion, ...] = ("2.1.0", "1.0.0")
"""The FIT-Connect metadata versions the suite writes, newest first: what a destination takes unless
its administrator narrows it."""


class Zustellkanal(BaseModel):
    """How applications reach a destination: pushed to its KOP webservice or pulled by it."""

    channel_type: Literal["webservice", "fitconnect"]
    url: str | None = None
    signature_scheme: Literal["standard-webhooks", "fit-connect"] = "standard-webhooks"


class DestinationChanged(Event):
    """A destination (an authority's Zustellkanal) was created, changed or deactivated."""

    event_type = "destination.changed"
    topic = ZUFI

    destination_id: str
    status: Literal["active", "inactive", "deleted"]
    name: str
    authority_id: str
    zustellkanal: Zustellkanal
    encryption_kid: str
    encryption_key: dict[str, Any]
    services: list[str] = []
    reply_channels: list[str] = []
    metadata_versions: list[str] = list(METADATA_VERSIONS)
    """The FIT-Connect metadata versions the destination takes (its `metadataVersions`)."""
    area_ars: str | None = None
    """ARS of the area the destination's authority serves; senders restricted by region are checked by it."""
    signing_key: dict[str, Any] | None = None
    """Public RSA JWK (`alg` PS512, `key_ops` verify) the destination signs its Security Event Tokens with."""

    def partition_key(self) -> str:
        return self.destination_id

    def subject(self) -> str:
        return f"destination:{self.destination_id}"


class FeeItem(BaseModel):
    """One fee position of a service (XBezahldienste item)."""

    id: str
    description: str
    price: str
    quantity: int = 1
    tax_rate: str = "0"
    booking_data: dict[str, str] = {}


class ServiceChanged(Event):
    """A Leistung of the catalogue was created or changed."""

    event_type = "service.changed"
    topic = ZUFI

    leika_key: str
    name: str
    level: Literal["GEMEINDE", "AMT", "KREIS", "LAND"]
    payment_required: bool
    fees: list[FeeItem] = []
    form_schema: dict[str, Any] | None = None
    xml_schema_namespace: str | None = None
    active: bool = True

    def partition_key(self) -> str:
        return self.leika_key

    def subject(self) -> str:
        return f"service:{self.leika_key}"


class ResponsibilityChanged(Event):
    """An explicit responsibility (service × area → authority) was set or removed."""

    event_type = "responsibility.changed"
    topic = ZUFI

    responsibility_id: str
    leika_key: str
    ars: str
    authority_id: str
    destination_id: str | None
    removed: bool = False

    def partition_key(self) -> str:
        return self.leika_key

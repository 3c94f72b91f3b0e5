"""The FIT-Connect Routing API 2.0.0 answers (routing-api.yaml), field by field.

A route adds two fields of ours, which the API's schema leaves open: `area`, the area the route was
resolved for, and `authorityId`. Fields without a value are left out, as the API's types have no null.
"""

from pydantic import Field

from ozg_common.schemas import Schema
from ozg_zufi.schemas import AreaRef, Bearbeitungsdauer, HttpsUrl


class Beschreibung(Schema):
    """A text of the Leistung by language code (it may hold HTML)."""

    description: dict[str, str]


class Anschrift(Schema):
    """Hausanschrift or Postanschrift of the authority."""

    street: str | None = None
    house_number: str | None = None
    additional: str | None = None
    zip: str | None = None
    city: str | None = None


class Kontaktperson(Schema):
    """A contact person of the authority for the Leistung."""

    name: str | None = None
    tel: str | None = None
    fax: str | None = None
    email: str | None = None


class Route(Schema):
    """Routingergebnis: one destination for the service in the area it names."""

    destination_id: str
    destination_signature: str = Field(pattern=r"^[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+?\.[a-zA-Z0-9\-_]+$")
    destination_name: str | None = None
    destination_short_name: str | None = None
    destination_logo: HttpsUrl | None = None
    contact_persons: list[Kontaktperson] | None = Field(default=None, min_length=1, max_length=500)
    address: Anschrift | None = None
    postal_address: Anschrift | None = None
    privacy_policy_url: HttpsUrl | None = None
    imprint_url: HttpsUrl | None = None
    accessibility_url: HttpsUrl | None = None
    contact_form_url: HttpsUrl | None = None
    required_documents: Beschreibung | None = None
    legal_basis: Beschreibung | None = None
    deadline: Beschreibung | None = None
    processing_duration: Bearbeitungsdauer | None = None
    authority_id: str = Field(description="Extension: the authority (Organisationseinheit) behind it.")
    area: AreaRef = Field(description="Extension: the area the route was resolved for.")


class RoutesPage(Schema):
    """Routingergebnisse."""

    count: int = Field(ge=0, le=500)
    offset: int = Field(ge=0, le=2**31 - 1)
    total_count: int = Field(ge=0)
    routes: list[Route] = Field(max_length=500)


class Version(Schema):
    """Version der Routing API."""

    major: int
    minor: int
    patch: int


class Info(Schema):
    """Technische Serviceinformationen."""

    version: Version

"""The FIT-Connect Routing API answer."""

from typing import Any

from ozg_common.schemas import Schema
from ozg_zufi.schemas import AreaRef


class ProcessingDuration(Schema):
    min: int | None = None
    max: int | None = None
    unit: str | None = None


class Route(Schema):
    """One candidate destination for the service in the area it names."""

    destination_id: str
    destination_signature: str
    destination_name: str
    destination_short_name: str | None = None
    authority_id: str
    area: AreaRef
    contact_persons: list[dict[str, Any]] = []
    address: dict[str, Any] | None = None
    required_documents: list[str] = []
    legal_basis: str | None = None
    deadline: str | None = None
    processing_duration: ProcessingDuration | None = None
    custom_parameters: dict[str, Any] = {}


class RoutesPage(Schema):
    count: int
    offset: int
    total_count: int
    routes: list[Route]

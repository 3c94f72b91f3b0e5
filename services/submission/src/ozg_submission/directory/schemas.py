"""FIT-Connect's Destination and public key shapes."""

from typing import Any

from ozg_common.schemas import Schema


class SubmissionSchema(Schema):
    schema_uri: str
    mime_type: str


class DestinationService(Schema):
    identifier: str
    submission_schemas: list[SubmissionSchema]
    regions: list[str] = []


class DestinationView(Schema):
    destination_id: str
    status: str
    encryption_kid: str
    services: list[DestinationService]
    metadata_versions: list[str]
    reply_channels: dict[str, dict[str, Any]]

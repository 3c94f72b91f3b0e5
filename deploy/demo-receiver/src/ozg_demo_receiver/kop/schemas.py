"""The KOP delivery envelope kop-gateway POSTs (contracts.md), and the receipt we answer."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Camel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")


class ServiceRef(Camel):
    leika_key: str | None = Field(None, alias="leikaKey")
    name: str | None = None


class AttachmentRef(Camel):
    attachment_id: str = Field(alias="attachmentId")
    size: int | None = None
    sha512: str | None = None
    download_url: str | None = Field(None, alias="downloadUrl")
    content: str | None = None


class Envelope(Camel):
    """What the gateway delivers; unknown fields are kept with the stored delivery."""

    type: Literal["submission", "reply", "read-receipt"]
    delivery_id: str = Field(alias="deliveryId", min_length=1, max_length=100)
    destination_id: str = Field(alias="destinationId", min_length=1, max_length=100)
    submission_id: str | None = Field(None, alias="submissionId", max_length=100)
    case_id: str | None = Field(None, alias="caseId", max_length=100)
    service: ServiceRef | None = None
    encrypted_metadata: str | None = Field(None, alias="encryptedMetadata")
    encrypted_data: str | None = Field(None, alias="encryptedData")
    attachments: list[AttachmentRef] = []


class SubmissionRef(Camel):
    destination_id: str = Field(alias="destinationId", min_length=1, max_length=100)
    submission_id: str = Field(alias="submissionId", min_length=1, max_length=100)
    case_id: str = Field(alias="caseId", min_length=1, max_length=100)


class NewSubmissionsCallback(Camel):
    """A FIT-Connect callback: only ids; the receiver picks the submissions up itself."""

    type: Literal["https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"]
    submissions: list[SubmissionRef] = Field(min_length=1, max_length=500)


class Receipt(Camel):
    """The 200 answer: the delivery id we stored, and whether we had it already."""

    delivery_id: str = Field(alias="deliveryId")
    status: Literal["received", "duplicate"]

"""The return channel's JSON (contracts.md): acknowledgement, status, replies."""

import uuid
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from ozg_common.openapi import examples
from ozg_common.schemas import Schema


class CaseProblem(Schema):
    """Why a case was rejected, in problem-detail form (as FIT-Connect's reject-submission)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1, max_length=500)
    title: str = Field(min_length=1, max_length=500)
    detail: str | None = Field(default=None, max_length=4000)
    instance: str | None = Field(default=None, max_length=500)


class Acknowledgement(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {"decision": "accept"},
            {
                "decision": "reject",
                "problems": [
                    {
                        "type": "https://schema.fitko.de/fit-connect/events/problems/service-mismatch",
                        "title": "Leistung wird hier nicht bearbeitet",
                        "detail": "Die Gewerbeanmeldung bearbeitet das Amt, nicht die Gemeinde.",
                    }
                ],
            },
        )
    )

    decision: Literal["accept", "reject"]
    problems: list[CaseProblem] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _reject_says_why(self) -> "Acknowledgement":
        if self.decision == "reject" and not self.problems:
            raise ValueError("a rejection needs at least one problem")
        return self


class AcknowledgementResult(Schema):
    case_id: str
    decision: Literal["accept", "reject"]


StatusValue = Literal["RECEIVED", "PROCESSING", "ACTION_REQUIRED", "COMPLETED"]


class StatusUpdate(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples({"status": "PROCESSING", "note": "Der Antrag wird bearbeitet."})
    )

    status: StatusValue
    note: str | None = Field(default=None, max_length=4000)


class StatusResult(Schema):
    case_id: str
    status: StatusValue


class ReplyAttachment(Schema):
    filename: str = Field(min_length=1, max_length=255)
    mime_type: str = Field(min_length=3, max_length=255, pattern=r"^[\w.+-]+/[\w.+-]+$")
    content_base64: str


class Reply(Schema):
    """A message to the citizen (BundID Postfach shape)."""

    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "title": "Ihre Gewerbeanmeldung",
                "content": "Ihre Gewerbeanmeldung ist eingetragen; die Bescheinigung liegt bei.",
                "attachments": [
                    {
                        "filename": "bescheinigung.pdf",
                        "mimeType": "application/pdf",
                        "contentBase64": "JVBERi0xLjcKJcfsj6IK",
                    }
                ],
                "replyAddress": "gewerbe@amt-achterwehr.example",
            }
        )
    )

    title: str = Field(min_length=1, max_length=1024)
    content: str = Field(min_length=1, max_length=100_000)
    attachments: list[ReplyAttachment] = Field(default_factory=list, max_length=20)
    reply_address: str | None = Field(default=None, max_length=1024)


class StoredAttachment(Schema):
    attachment_id: uuid.UUID
    filename: str
    mime_type: str
    size: int
    sha512: str


class ReplyResult(Schema):
    message_id: uuid.UUID
    case_id: str
    attachments: list[StoredAttachment]

"""The mailbox identity and profile as the API shows them."""

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from ozg_common.openapi import examples
from ozg_common.schemas import Schema
from ozg_mailbox.identity import EMAIL_PATTERN
from ozg_mailbox.models import Mailbox

EmailAddress = Annotated[str, StringConstraints(max_length=320, pattern=EMAIL_PATTERN)]


class MailboxRead(Schema):
    """`GET /v1/mailbox`: which mailbox this login opens."""

    mailbox_uuid: uuid.UUID
    email: str | None
    stork_qaa_level: str | None
    created_at: datetime

    @classmethod
    def of(cls, mailbox: Mailbox) -> "MailboxRead":
        return cls(
            mailbox_uuid=mailbox.id,
            email=mailbox.email,
            stork_qaa_level=mailbox.stork_qaa_level,
            created_at=mailbox.created_at,
        )


class ProfileUpdate(Schema):
    """`PUT /v1/mailbox/profile`: where email notices go (`null`: the login's address)."""

    model_config = ConfigDict(json_schema_extra=examples({"email": "erika.mustermann@example.org"}))

    email: EmailAddress | None

"""The callback a sender registers (FIT-Connect `callback` of create-submission)."""

from pydantic import Field

from ozg_common.schemas import Schema


class CallbackSetup(Schema):
    """Where to call and the secret that signs each call; the secret is never answered."""

    url: str = Field(min_length=1, max_length=2048)
    secret: str = Field(min_length=1, max_length=512, json_schema_extra={"writeOnly": True})

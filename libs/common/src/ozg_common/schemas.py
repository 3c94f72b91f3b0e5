"""The JSON conventions of every service's API: camelCase names on the wire, as FIT-Connect's APIs
use, snake_case in Python."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    """Base of every request and answer body.

    Written in camelCase wherever it is dumped (answers, events, stored documents), read in either
    spelling, and built from ORM rows by `model_validate(row)`."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, from_attributes=True, serialize_by_alias=True
    )

"""The base of zufi's JSON shapes: camelCase on the wire, as FIT-Connect's APIs use."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    """A JSON body or answer of zufi's API."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, serialize_by_alias=True)


class AreaRef(Schema):
    """An area as lists name it."""

    id: str
    name: str
    type: str

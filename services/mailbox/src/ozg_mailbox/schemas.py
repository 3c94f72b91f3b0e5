"""The API's JSON conventions: camelCase names (standards.md §5), snake_case in Python."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class Schema(BaseModel):
    """Base of every request and answer body."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class Page(Schema):
    """FIT-Connect's pagination fields."""

    count: int
    offset: int
    total_count: int

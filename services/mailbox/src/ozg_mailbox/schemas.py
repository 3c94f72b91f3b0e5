"""The API's pagination fields."""

from ozg_common.schemas import Schema


class Page(Schema):
    """FIT-Connect's pagination fields."""

    count: int
    offset: int
    total_count: int

"""Bounded `offset` and `limit` query parameters for every paginated list: beyond the bounds a
request is answered 400 problem details (validation), never handed to the database."""

from typing import Annotated

from fastapi import Query

OFFSET_MAX = 2**31 - 1
"""The FIT-Connect Routing API's offset is an int32; larger offsets would overflow the databases'
OFFSET (a 64-bit integer) long before any list is that long."""
LIMIT_MAX = 500
"""FIT-Connect's page size: 1 to 500."""
LIMIT_DEFAULT = 100
"""FIT-Connect's default page size."""

Offset = Annotated[
    int, Query(ge=0, le=OFFSET_MAX, description="Start of the page in the whole result (0 = first).")
]
"""The position of a page's first item in the whole result."""
Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Most items in one page.")]
"""The most items a page holds."""

"""offset/limit as the FIT-Connect Routing API defines them: int32, limit 100 by default, 500 at most.

Every paginated list of zufi takes the same bounds, so an offset beyond what a database's integer
column (or the Routing API's `int32`) can hold is a 400 before any query is built.
"""

from typing import Annotated

from fastapi import Query

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many results to skip (0 to 2147483647).")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many results to answer (1 to 500).")]

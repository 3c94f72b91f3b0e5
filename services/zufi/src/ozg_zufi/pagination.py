"""offset/limit as the FIT-Connect Routing API defines them: limit 100 by default, 500 at most."""

from typing import Annotated

from fastapi import Query

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
Offset = Annotated[int, Query(ge=0, description="How many results to skip.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many results to answer (at most 500).")]

"""Who may call what: the catalogue and routes are public, changes need the `admin` scope."""

from typing import Annotated

from fastapi import Depends

from ozg_common.auth import Principal, require_scope

AdminDep = Annotated[Principal, Depends(require_scope("admin"))]

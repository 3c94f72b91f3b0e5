"""The scopes payment's routes demand."""

from typing import Annotated

from fastapi import Depends

from ozg_common.auth import Principal, require_scope

SenderDep = Annotated[Principal, Depends(require_scope("send", "admin"))]
"""Senders (online services) create and read payments; admins may read every one."""
AdminDep = Annotated[Principal, Depends(require_scope("admin"))]

"""Explicit responsibilities (Zuständigkeiten): service × area → authority."""

import uuid
from datetime import datetime

from pydantic import Field

from ozg_common.schemas import Schema


class ResponsibilityIn(Schema):
    leika_key: str = Field(description="`99` + 12 digits, or its URN.")
    area_id: str = Field(description="ARS of the area (its Gemeinden inherit unless they have their own).")
    authority_id: uuid.UUID


class ResponsibilityOut(Schema):
    id: uuid.UUID
    leika_key: str
    area_id: str
    authority_id: uuid.UUID
    updated_at: datetime


class ResponsibilitiesPage(Schema):
    count: int
    offset: int
    total_count: int
    responsibilities: list[ResponsibilityOut]

"""Explicit responsibilities (Zuständigkeiten): service × area → authority."""

import uuid
from datetime import datetime

from pydantic import ConfigDict, Field

from ozg_common.openapi import examples
from ozg_common.schemas import Schema


class ResponsibilityIn(Schema):
    model_config = ConfigDict(
        json_schema_extra=examples(
            {
                "leikaKey": "99050035001000",
                "areaId": "010585801000",
                "authorityId": "5b0e8a52-7f0c-4c39-9d55-3e1f3a6d2c10",
            }
        )
    )

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

"""Areas as the API shows them."""

from ozg_common.schemas import Schema
from ozg_zufi.routing.index import AreaNode
from ozg_zufi.schemas import AreaRef


class AreaSummary(AreaRef):
    """An area with its keys, kind and parent (`id` is the ARS)."""

    ags: str | None = None
    kind: str
    parent_id: str | None = None

    @classmethod
    def of(cls, area: AreaNode) -> "AreaSummary":
        return cls(
            id=area.ars,
            name=area.name,
            type=area.type,
            ags=area.ags,
            kind=area.kind,
            parent_id=area.parent_ars,
        )


class AreasPage(Schema):
    count: int
    offset: int
    total_count: int
    areas: list[AreaSummary]

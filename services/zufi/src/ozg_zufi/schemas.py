"""JSON shapes several of zufi's domains share."""

from ozg_common.schemas import Schema


class AreaRef(Schema):
    """An area as lists name it."""

    id: str
    name: str
    type: str

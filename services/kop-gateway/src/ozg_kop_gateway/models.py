"""The kop-gateway database: its own tables, plus the outbox and inbox every service keeps."""

from sqlalchemy.orm import DeclarativeBase

from ozg_common.db import new_metadata
from ozg_common.messaging import add_messaging_tables


class Model(DeclarativeBase):
    """Base of the kop-gateway service's ORM models."""

    metadata = new_metadata()


outbox_table, inbox_table = add_messaging_tables(Model.metadata)

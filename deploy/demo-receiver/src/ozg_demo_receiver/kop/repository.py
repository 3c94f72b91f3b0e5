"""Storing deliveries exactly once, even when two copies arrive at the same moment.

Every delivery is an upsert: a new delivery id is inserted, a known one only counts a repeat; a
new delivery of a submission inserts its application, or counts one more delivery of it when
another delivery id brought the submission before. Both wait for a concurrent copy's transaction
and then count, so simultaneous copies store one row.

The receiver stores hundreds of deliveries a second under load, so on PostgreSQL a delivery costs
one round trip: both upserts in one statement, which is its own transaction (no BEGIN and COMMIT
round trips, still all or nothing). The statements are built once, so SQLAlchemy's compiled cache
serves every call. SQLite (`make run`) runs the two upserts in a transaction.
"""

from typing import Any

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ozg_common.db import Database
from ozg_demo_receiver.models import Application, Delivery

Values = dict[str, Any]
"""One row's column values."""

DELIVERY_COLUMNS = (
    "delivery_id",
    "kind",
    "destination_id",
    "submission_id",
    "case_id",
    "received_at",
    "repeats",
    "envelope",
)
APPLICATION_COLUMNS = (
    "submission_id",
    "case_id",
    "destination_id",
    "leika_key",
    "service_name",
    "first_delivery_id",
    "deliveries",
    "received_at",
    "stage",
    "attachment_count",
    "problems",
    "attempts",
    "next_attempt_at",
)
"""The columns a new application is stored with; the others stay empty until it is worked on."""

_deliveries: Table = Delivery.__table__  # type: ignore[assignment]
_applications: Table = Application.__table__  # type: ignore[assignment]


def _parameters(table: Table, columns: tuple[str, ...], prefix: str = "") -> dict[str, Any]:
    """Bound parameters for `columns`, typed like them (JSON and timestamps are converted)."""
    return {name: bindparam(prefix + name, type_=table.c[name].type) for name in columns}


_NEW_DELIVERY = _parameters(_deliveries, DELIVERY_COLUMNS)
_NEW_APPLICATION = _parameters(_applications, APPLICATION_COLUMNS, prefix="application_")
_COUNT_REPEAT = {"repeats": _deliveries.c.repeats + 1}
_COUNT_DELIVERY = {"deliveries": _applications.c.deliveries + 1}

# Both upserts answer the delivery's `repeats`: 0 when it is new, at least 1 after counting a repeat.
_PG_DELIVERY = (
    postgresql.insert(_deliveries)
    .values(_NEW_DELIVERY)
    .on_conflict_do_update(index_elements=[_deliveries.c.delivery_id], set_=_COUNT_REPEAT)
    .returning(_deliveries.c.repeats)
)
_SQLITE_DELIVERY = (
    sqlite.insert(_deliveries)
    .values(_NEW_DELIVERY)
    .on_conflict_do_update(index_elements=[_deliveries.c.delivery_id], set_=_COUNT_REPEAT)
    .returning(_deliveries.c.repeats)
)
_SQLITE_APPLICATION = (
    sqlite.insert(_applications)
    .values(_NEW_APPLICATION)
    .on_conflict_do_update(index_elements=[_applications.c.submission_id], set_=_COUNT_DELIVERY)
)


def _postgresql_submission() -> Select[tuple[int]]:
    """The delivery upsert and, only when it stored a new delivery, the application upsert."""
    delivery = _PG_DELIVERY.cte("delivery")
    application = (
        postgresql.insert(_applications)
        .from_select(APPLICATION_COLUMNS, select(*_NEW_APPLICATION.values()).where(delivery.c.repeats == 0))
        .on_conflict_do_update(index_elements=[_applications.c.submission_id], set_=_COUNT_DELIVERY)
    )
    return select(delivery.c.repeats).add_cte(application.cte("application"))


_PG_SUBMISSION = _postgresql_submission()


class DeliveryStore:
    """Where accepted deliveries are stored."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._autocommitting = database.engine.execution_options(isolation_level="AUTOCOMMIT")

    async def add(self, *deliveries: tuple[Values, Values | None]) -> list[bool]:
        """Store deliveries, each with its application when it brings a submission, all or none;
        for each whether its delivery id was new (a known one is only counted as a repeat)."""
        if len(deliveries) == 1 and not self.database.is_sqlite:
            async with self._autocommitting.connect() as connection:
                return [await _add(connection, *deliveries[0])]
        async with self.database.engine.begin() as connection:
            return [await _add(connection, delivery, application) for delivery, application in deliveries]


async def _add(connection: AsyncConnection, delivery: Values, application: Values | None) -> bool:
    parameters = {f"application_{name}": value for name, value in (application or {}).items()}
    repeats: int
    if connection.dialect.name == "postgresql":
        statement = _PG_DELIVERY if application is None else _PG_SUBMISSION
        repeats = (await connection.execute(statement, {**delivery, **parameters})).scalar_one()
        return repeats == 0
    repeats = (await connection.execute(_SQLITE_DELIVERY, delivery)).scalar_one()
    if repeats == 0 and application is not None:
        await connection.execute(_SQLITE_APPLICATION, parameters)
    return repeats == 0

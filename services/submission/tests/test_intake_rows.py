"""The native intake's write: rows of several tables in one statement, all or nothing."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ozg_common.bulk import RowUpdate, insert_rows, single_write
from ozg_common.db import Database
from ozg_submission.models import Model, outbox_table
from ozg_testing import fresh_database

SUBMISSIONS, ATTACHMENTS, EVENT_LOG = (
    Model.metadata.tables[t] for t in ("submissions", "attachments", "event_log")
)


@pytest.fixture(params=["postgresql", "sqlite"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    database = await fresh_database(request.param, "test_submission_3", tmp_path, Model.metadata)
    yield database
    await database.dispose()


def _application(attachment_ids: list[uuid.UUID]) -> list[tuple[Any, list[dict[str, Any]]]]:
    submission_id, case_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    submission = {column.key: None for column in SUBMISSIONS.columns} | {
        "id": submission_id,
        "case_id": case_id,
        "destination_id": "dest",
        "sender_client_id": "sender",
        "leika_key": "99108008000000",
        "service_name": "Hund anmelden",
        "origin": "native",
        "status": "forwarded",
        "announced_attachments": [str(a) for a in attachment_ids],
        "payment_required": False,
        "reminders_sent": 0,
        "created_at": now,
        "last_event_at": now,
    }
    attachments = [
        {
            "submission_id": submission_id,
            "attachment_id": attachment_id,
            "blob_key": f"blob-{attachment_id}",
            "size": 3,
            "sha512": "0" * 128,
            "uploaded_at": now,
        }
        for attachment_id in attachment_ids
    ]
    log = [
        {
            "case_id": case_id,
            "submission_id": submission_id,
            "event_type": event,
            "token": f"t-{event}",
            "issued_at": now,
        }
        for event in ("create", "submit", "forward")
    ]
    outbox = [
        {
            "event_id": str(uuid.uuid4()),
            "topic": "submission.events",
            "key": str(case_id),
            "headers": [["ce_type", "x"]],
            "payload": b"{}",
            "created_at": now,
        }
    ]
    return [(SUBMISSIONS, [submission]), (ATTACHMENTS, attachments), (EVENT_LOG, log), (outbox_table, outbox)]


async def test_every_row_is_written_parents_first_and_in_order(database: Database) -> None:
    attachments = [uuid.uuid4(), uuid.uuid4()]
    async with database.transaction() as session:
        await insert_rows(session, _application(attachments))
    async with database.sessionmaker() as session:
        submission = (await session.execute(select(SUBMISSIONS))).one()
        assert submission.status == "forwarded"
        assert submission.announced_attachments == [str(a) for a in attachments]
        assert submission.pending_metadata is None
        assert set(await session.scalars(select(ATTACHMENTS.c.attachment_id))) == set(attachments)
        tokens = await session.scalars(select(EVENT_LOG.c.token).order_by(EVENT_LOG.c.id))
        assert list(tokens) == ["t-create", "t-submit", "t-forward"]
        assert (await session.execute(select(outbox_table.c.headers))).scalar_one() == [["ce_type", "x"]]


async def test_a_failing_write_leaves_nothing_behind_even_without_a_transaction(database: Database) -> None:
    twice = uuid.uuid4()

    async def write() -> None:
        async with database.transaction() as session:
            await single_write(session)
            await insert_rows(session, _application([twice, twice]))

    with pytest.raises(IntegrityError):
        await write()
    async with database.sessionmaker() as session:
        for table in (SUBMISSIONS, ATTACHMENTS, EVENT_LOG, outbox_table):
            assert await session.scalar(select(func.count()).select_from(table)) == 0, table.name


async def test_an_update_and_its_rows_are_written_together_or_not_at_all(database: Database) -> None:
    batches = _application([])
    [(_, [submission])] = batches[:1]
    async with database.transaction() as session:
        await insert_rows(session, batches[:1])
    submitted = datetime.now(UTC)
    key = {"id": submission["id"]}
    log_entry = {
        "case_id": submission["case_id"],
        "submission_id": submission["id"],
        "event_type": "accept",
        "token": "t-accept",
        "issued_at": submitted,
    }

    async def write(log: list[dict[str, Any]]) -> None:
        async with database.transaction() as session:
            await single_write(session)
            await insert_rows(
                session,
                [(EVENT_LOG, log)],
                updating=RowUpdate(SUBMISSIONS, key, {"status": "accepted", "last_event_at": submitted}),
            )

    with pytest.raises(IntegrityError):
        await write([log_entry | {"case_id": None}])
    async with database.sessionmaker() as session:
        assert await session.scalar(select(SUBMISSIONS.c.status)) == "forwarded"
        assert await session.scalar(select(func.count()).select_from(EVENT_LOG)) == 0

    await write([log_entry])
    async with database.sessionmaker() as session:
        row = (await session.execute(select(SUBMISSIONS))).one()
        assert (row.status, row.last_event_at) == ("accepted", submitted)
        assert list(await session.scalars(select(EVENT_LOG.c.token))) == ["t-accept"]

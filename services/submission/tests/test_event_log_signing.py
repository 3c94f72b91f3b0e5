"""Our own SETs are stored as claims when the event happens and signed once, when the log is first read."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from submission_testkit import Suite
from test_applications import application
from test_fit_connect import submitted

from ozg_common.db import Database
from ozg_submission.eventlog import service as eventlog
from ozg_submission.models import EventLogEntry
from ozg_submission.settings import SubmissionSettings
from ozg_submission.state import SubmissionState


@pytest.fixture
async def database(settings: SubmissionSettings) -> AsyncIterator[Database]:
    """submission's own database, to look at what is stored and to read the log as a second reader."""
    database = Database(settings.database_location)
    yield database
    await database.dispose()


async def stored(database: Database, submission_id: str) -> list[tuple[str | None, datetime]]:
    """The submission's log entries as stored: token (None: not signed yet) and the event's time."""
    async with database.sessionmaker() as session:
        query = (
            select(EventLogEntry.token, EventLogEntry.issued_at)
            .where(EventLogEntry.submission_id == uuid.UUID(submission_id))
            .order_by(EventLogEntry.id)
        )
        return [(token, at) for token, at in await session.execute(query)]


async def stored_tokens(database: Database, submission_id: str) -> list[str | None]:
    return [token for token, _ in await stored(database, submission_id)]


async def native_application(suite: Suite) -> tuple[str, str]:
    answer = await suite.http.post("/v1/applications", json=application(), headers=await suite.auth("sender"))
    assert answer.status_code == 201, answer.text
    return answer.json()["submissionId"], answer.json()["caseId"]


async def test_the_log_is_signed_once_with_the_events_own_time(suite: Suite, database: Database) -> None:
    submission_id, case_id = await native_application(suite)
    happened = [int(at.timestamp()) for _, at in await stored(database, submission_id)]
    # Read a second later at least: iat must stay the event's time, not become the read's.
    await asyncio.sleep(max(0.0, max(happened) + 1.1 - time.time()))
    sender = await suite.auth("sender")
    first, *others = await asyncio.gather(
        *(suite.http.get(f"/v1/cases/{case_id}/events", headers=sender) for _ in range(3)),
        suite.http.get(f"/v1/submissions/{submission_id}/events", headers=sender),
    )
    log = first.json()["eventLog"]
    assert [answer.json()["eventLog"] for answer in others] == [log] * len(others), "concurrent first reads"
    assert (await suite.http.get(f"/v1/cases/{case_id}/events", headers=sender)).json()["eventLog"] == log
    trail = (
        await suite.http.get(f"/v1/admin/cases/{case_id}/events", headers=await suite.auth("admin"))
    ).json()
    assert [e["token"] for e in trail["events"]] == log
    assert [int(datetime.fromisoformat(e["recordedAt"]).timestamp()) for e in trail["events"]] == happened
    assert await stored_tokens(database, submission_id) == log

    jwks = KeySet.import_key_set((await suite.http.get("/.well-known/jwks.json")).json())
    claims = [jwt.decode(token, jwks, algorithms=["PS512"]).claims for token in log]
    assert [next(iter(c["events"])).rsplit("/", 1)[1] for c in claims] == [
        "create-submission",
        "submit-submission",
    ]
    assert [c["iat"] for c in claims] == happened
    assert len({c["jti"] for c in claims}) == 2
    assert all(c["sub"] == f"submission:{submission_id}" and c["txn"] == f"case:{case_id}" for c in claims)


@pytest.mark.parametrize("intake", ["native", "fit-connect"])
async def test_entries_stay_unsigned_until_the_log_is_read(
    suite: Suite, database: Database, intake: str
) -> None:
    submission_id, _ = await (native_application(suite) if intake == "native" else submitted(suite))
    assert await stored_tokens(database, submission_id) == [None, None]
    log = await suite.http.get(f"/v1/submissions/{submission_id}/events", headers=await suite.auth("sender"))
    assert log.status_code == 200, log.text
    assert len(log.json()["eventLog"]) == 2
    assert await stored_tokens(database, submission_id) == log.json()["eventLog"]


async def test_a_reader_that_loses_the_race_answers_the_winners_tokens(
    suite: Suite, database: Database, settings: SubmissionSettings
) -> None:
    submission_id, case_id = await native_application(suite)
    signer = SubmissionState.build(settings).events

    async def read(session: AsyncSession) -> list[str]:
        return [event.token for event in await eventlog.of_case(session, signer, uuid.UUID(case_id))]

    async with database.transaction() as winner:
        won = await read(winner)
        async with database.transaction() as loser:
            late = asyncio.create_task(read(loser))
            await asyncio.sleep(0.5)
            assert not late.done(), "it signed its own tokens, then waits for the winner's row locks"
            await winner.commit()
            assert await late == won
    assert await stored_tokens(database, submission_id) == won


async def test_the_published_keys_have_the_bits_bsi_requires(suite: Suite) -> None:
    answer = await suite.http.get("/.well-known/jwks.json")
    assert answer.status_code == 200
    published = KeySet.import_key_set(answer.json())
    assert len(published.keys) == 2
    assert all(key.raw_value.key_size >= 3072 for key in published.keys)


def test_a_smaller_event_key_is_refused_by_the_settings() -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 3072"):
        SubmissionSettings(event_key_bits=2048)

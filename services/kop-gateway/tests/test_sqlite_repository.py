"""The gateway on SQLite (`make run`): intake, claim, lease and recording take their SQLite branches."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kop_testkit import ready_event
from prometheus_client import CollectorRegistry
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.db import Database
from ozg_common.events import CloudEvent
from ozg_common.migrations import upgrade
from ozg_common.outbox import Outbox, event_source
from ozg_kop_gateway.app import MIGRATIONS
from ozg_kop_gateway.cases import repository as cases
from ozg_kop_gateway.deliveries import repository
from ozg_kop_gateway.deliveries.intake import DeliveryIntake
from ozg_kop_gateway.deliveries.metrics import DeliveryMetrics
from ozg_kop_gateway.deliveries.policy import RetryPolicy
from ozg_kop_gateway.deliveries.sender import Outcome
from ozg_kop_gateway.deliveries.service import Deliveries
from ozg_kop_gateway.deliveries.worker import claimed_job
from ozg_kop_gateway.models import (
    Delivery,
    DeliveryKind,
    DeliveryState,
    Destination,
    WebhookSecret,
    outbox_table,
)

HORIZON = timedelta(hours=1)


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'kop-gateway.db'}")
    await upgrade(database, MIGRATIONS)
    yield database
    await database.dispose()


async def submitted(session: AsyncSession, destination_id: str, case_id: str) -> None:
    """What the intake does with a consumed `submission.ready_for_delivery`."""
    event = ready_event(destination_id, case_id=case_id)
    source = CloudEvent.wrap(event, source=event_source("submission"))
    await DeliveryIntake(HORIZON).on_submission_ready(session, event, source)


async def test_a_delivery_and_its_case_are_stored_and_the_first_destination_keeps_the_case(
    database: Database,
) -> None:
    case_id, first, second = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    async with database.transaction() as session:
        await submitted(session, first, case_id)
    async with database.transaction() as session:
        await submitted(session, second, case_id)

    async with database.transaction() as session:
        case = await cases.get(session, case_id)
        assert case is not None
        assert case.destination_id == first, "the first delivery decides who may answer the case"
        stored = list(await session.scalars(select(Delivery).where(Delivery.case_id == case_id)))
    assert sorted(d.destination_id for d in stored) == sorted([first, second])
    assert {(d.state, d.attempt_count, d.kind) for d in stored} == {
        (DeliveryState.PENDING, 0, DeliveryKind.SUBMISSION)
    }


async def test_claimed_deliveries_are_leased_and_a_batch_is_recorded_in_order(database: Database) -> None:
    now = datetime.now(UTC)
    plain, rotated = str(uuid.uuid4()), str(uuid.uuid4())
    async with database.transaction() as session:
        for destination_id in (plain, rotated):
            session.add(
                Destination(
                    id=destination_id,
                    name="Amt",
                    authority_id="auth",
                    status="active",
                    channel_type="webservice",
                    url=f"https://kop.example/{destination_id}",
                    signature_scheme="standard-webhooks",
                    updated_at=now,
                )
            )
        session.add(WebhookSecret(destination_id=rotated, ciphertext=b"sealed", created_at=now))
        for destination_id in (plain, plain, rotated):
            await submitted(session, destination_id, str(uuid.uuid4()))
        await submitted(session, "held-back", str(uuid.uuid4()))

    claimed_at = datetime.now(UTC)
    async with database.transaction() as session:
        rows = await repository.due(session, claimed_at, limit=10, excluding=["held-back"])
        assert [row.destination_id for row in rows] == [plain, plain, rotated]
        assert [(row.url, row.status, row.explicit_secrets) for row in rows] == [
            (f"https://kop.example/{plain}", "active", False),
            (f"https://kop.example/{plain}", "active", False),
            (f"https://kop.example/{rotated}", "active", True),
        ]
        await repository.lease(session, [row.id for row in rows], claimed_at + timedelta(minutes=5))
    async with database.transaction() as session:
        leased = await repository.due(session, claimed_at, limit=10, excluding=[])
        assert [row.destination_id for row in leased] == ["held-back"], (
            "a leased delivery is not claimed again"
        )

    jobs = [claimed_job(row, ["s"]) for row in rows]
    statuses = [204, 503, 410]  # delivered, tried again later, dead-lettered
    batch = [
        (job, Outcome(claimed_at, 1.5, url=None, status_code=status, final=status == 410, reached=True))
        for job, status in zip(jobs, statuses, strict=True)
    ]
    deliveries = Deliveries(
        Outbox(outbox_table, event_source("kop-gateway")),
        RetryPolicy(schedule=(60.0,), interval=60.0, jitter=0.0, max_retry_after=60.0),
        HORIZON,
        DeliveryMetrics(CollectorRegistry()),
    )
    async with database.transaction() as session:
        states = await deliveries.record_many(session, batch)
    assert states == [DeliveryState.SUCCEEDED, DeliveryState.PENDING, DeliveryState.DEAD_LETTERED]

    async with database.transaction() as session:
        attempts = (
            await session.execute(
                text("SELECT delivery_id, number, status_code FROM delivery_attempts ORDER BY rowid")
            )
        ).all()
        assert [(uuid.UUID(a.delivery_id), a.number, a.status_code) for a in attempts] == [
            (job.delivery_id, 1, status) for job, status in zip(jobs, statuses, strict=True)
        ]
        events = (await session.execute(select(outbox_table).order_by(outbox_table.c.id))).all()
        announced = [
            (dict(map(tuple, e.headers))["ce_type"], json.loads(e.payload)["delivery_id"]) for e in events
        ]
        assert announced[-2:] == [
            ("de.ozg-router.delivery.succeeded", str(jobs[0].delivery_id)),
            ("de.ozg-router.delivery.dead_lettered", str(jobs[2].delivery_id)),
        ]
        by_id = {d.id: d for d in await session.scalars(select(Delivery))}
    delivered, retried, dead = (by_id[job.delivery_id] for job in jobs)
    assert (delivered.state, delivered.attempt_count, delivered.last_status) == ("succeeded", 1, 204)
    assert (retried.state, retried.last_status, retried.last_error) == ("pending", 503, "HTTP 503")
    assert retried.next_attempt_at is not None
    # The retry schedule's 60 s replaced the 5 min lease (SQLite gives the UTC time back naive).
    retry_in = retried.next_attempt_at.replace(tzinfo=UTC) - claimed_at
    assert timedelta(seconds=59) < retry_in < timedelta(seconds=62)
    assert (dead.state, dead.last_status) == ("dead_lettered", 410)

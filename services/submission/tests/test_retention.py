"""Retention with tiny periods: incomplete submissions vanish with their blobs; the other rules by clock."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from submission_testkit import (
    ARS_KIEL,
    LEIKA_DOG,
    Bus,
    FakeZufi,
    Keys,
    Suite,
    clients_file,
    destination_events,
    problem,
)

from ozg_submission.app import create_app
from ozg_submission.retention.service import RetentionJob
from ozg_submission.settings import SubmissionSettings
from ozg_submission.state import SubmissionState
from ozg_testing import (
    free_port,
    fresh_postgres_database,
    kafka_bootstrap,
    serving,
    unique_topic_prefix,
)


@pytest.fixture(scope="module")
async def short_lived(
    tmp_path_factory: pytest.TempPathFactory, keys: Keys, zufi: FakeZufi
) -> AsyncIterator[tuple[Suite, SubmissionState, Path]]:
    prefix = unique_topic_prefix()
    var = tmp_path_factory.mktemp("retention-var")
    settings = SubmissionSettings(
        database_url=await fresh_postgres_database("test_submission_2"),
        kafka_bootstrap_servers=kafka_bootstrap(),
        topic_prefix=prefix,
        topic_partitions=1,
        var_dir=var,
        port=free_port(),
        zufi_url=zufi.base_url,  # type: ignore[attr-defined]
        bootstrap_clients_file=var / "clients.json",
        outbox_poll_interval=0.1,
        retention_interval=0.2,
        retention_incomplete_after=timedelta(seconds=1),
    )
    assert settings.bootstrap_clients_file is not None
    # The zufi double routes to the main suite's destination ids; this app gets the same names.
    main_prefix = next(iter(zufi.table.values()))[0][0].removesuffix("a")
    secrets = clients_file(settings.bootstrap_clients_file, main_prefix)
    app = create_app(settings)
    bus = Bus(kafka_bootstrap(), prefix)
    async with serving(app, settings.port) as base_url:
        await bus.start()
        try:
            async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
                suite = Suite(http, bus, zufi, keys, secrets, main_prefix)
                await bus.publish(*destination_events(keys, main_prefix))
                await suite.wait_for_destination(suite.dest_closed)
                yield suite, app.state.submission, settings.blob_path
        finally:
            await bus.stop()


def blobs_of(root: Path, submission_id: str) -> list[Path]:
    directory = root / "submissions" / submission_id
    return [p for p in directory.rglob("*") if p.is_file()] if directory.exists() else []


async def test_incomplete_submission_is_deleted_with_its_blobs(
    short_lived: tuple[Suite, SubmissionState, Path],
) -> None:
    suite, _, blob_root = short_lived
    sender = await suite.auth("sender")
    attachment = str(uuid.uuid4())
    created = (
        await suite.http.post(
            "/v1/submissions",
            json={
                "destinationId": suite.dest_a,
                "announcedAttachments": [attachment],
                "serviceType": {"name": "Hundesteuer", "identifier": LEIKA_DOG},
            },
            headers=sender,
        )
    ).json()
    sid = created["submissionId"]
    uploaded = await suite.http.put(
        f"/v1/submissions/{sid}/attachments/{attachment}",
        content=suite.encrypt_for_a(b"secret scan").encode(),
        headers={"Content-Type": "application/jose", **sender},
    )
    assert uploaded.status_code == 204
    assert blobs_of(blob_root, sid)
    deleted = await suite.bus.expect("submission.deleted", lambda e: e["submission_id"] == sid, within=15)
    assert deleted["reason"] == "incomplete"
    assert blobs_of(blob_root, sid) == []
    log = (await suite.http.get(f"/v1/submissions/{sid}/events", headers=sender)).json()["eventLog"]
    assert len(log) == 2, "create, then delete: the log outlives the content"
    problem(
        await suite.http.put(
            f"/v1/submissions/{sid}/attachments/{attachment}",
            content=suite.encrypt_for_a(b"again").encode(),
            headers={"Content-Type": "application/jose", **sender},
        ),
        404,
        "submission-not-found",
    )


async def test_unpicked_submissions_are_reminded_rejected_deleted_and_forgotten(
    short_lived: tuple[Suite, SubmissionState, Path],
) -> None:
    suite, context, blob_root = short_lived
    sender = await suite.auth("sender")
    body = {
        "leikaKey": LEIKA_DOG,
        "ars": ARS_KIEL,
        "applicant": {"givenName": "A", "familyName": "B"},
        "formData": {"hund": {"name": "Rex", "geburtsjahr": 2021}},
    }
    created = (await suite.http.post("/v1/applications", json=body, headers=sender)).json()
    sid = created["submissionId"]
    assert created["status"] == "forwarded"
    job = RetentionJob(context)
    start = datetime.now(UTC)

    async def status() -> str:
        return str((await suite.http.get(f"/v1/applications/{sid}", headers=sender)).json()["status"])

    await job.run_once(start + timedelta(days=2, hours=23))
    await job.run_once(start + timedelta(days=3, hours=1))
    first = await suite.bus.expect("submission.pickup_reminder", lambda e: e["submission_id"] == sid)
    assert first["case_id"] == created["caseId"]
    assert first["destination_id"] == suite.dest_a
    assert first["reminder"] == 1
    forwarded_at = datetime.fromisoformat(first["forwarded_at"])
    assert datetime.fromisoformat(first["auto_reject_at"]) == forwarded_at + timedelta(days=14)
    await job.run_once(start + timedelta(days=9, hours=1))
    second = await suite.bus.expect(
        "submission.pickup_reminder", lambda e: e["submission_id"] == sid and e["reminder"] == 2
    )
    assert second["case_id"] == created["caseId"]
    reminders = [
        e for e in suite.bus.seen if e.type.endswith("pickup_reminder") and e.data["submission_id"] == sid
    ]
    assert len(reminders) == 2, "one event per reminder, none before day 3"
    metrics = (await suite.http.get("/metrics")).text
    assert 'retention_actions_total{action="reminder"} 2.0' in metrics
    assert await status() == "forwarded"
    await job.run_once(start + timedelta(days=14, hours=1))
    assert await status() == "rejected"
    assert blobs_of(blob_root, sid), "an auto-rejected submission is kept until day 21"
    await job.run_once(start + timedelta(days=21, hours=1))
    assert await status() == "deleted"
    assert blobs_of(blob_root, sid) == []
    events = (await suite.http.get(f"/v1/submissions/{sid}/events", headers=sender)).json()["eventLog"]
    assert len(events) == 4  # create, submit, reject, delete
    await job.run_once(start + timedelta(days=21 + 731))
    problem(
        await suite.http.get(f"/v1/submissions/{sid}/events", headers=sender), 404, "submission-not-found"
    )


async def test_picked_up_submissions_are_deleted_seven_days_later(
    short_lived: tuple[Suite, SubmissionState, Path],
) -> None:
    suite, context, blob_root = short_lived
    body = {
        "leikaKey": LEIKA_DOG,
        "ars": ARS_KIEL,
        "applicant": {"givenName": "A", "familyName": "B"},
        "formData": {"hund": {"name": "Rex", "geburtsjahr": 2021}},
    }
    sid = (await suite.http.post("/v1/applications", json=body, headers=await suite.auth("sender"))).json()[
        "submissionId"
    ]
    picked = await suite.http.get(f"/v1/submissions/{sid}", headers=await suite.auth("subscriber-a"))
    assert picked.status_code == 200
    job = RetentionJob(context)
    await job.run_once(datetime.now(UTC) + timedelta(days=6))
    assert blobs_of(blob_root, sid)
    await job.run_once(datetime.now(UTC) + timedelta(days=7, minutes=1))
    assert blobs_of(blob_root, sid) == []

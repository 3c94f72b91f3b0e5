"""The clerk: works through received applications and answers each through the return channel.

The queue is the `applications` table itself (stage + next_attempt_at), so nothing answered 2xx
is lost when the receiver restarts; each step is recorded after it succeeded, and a step repeated
after a crash carries the same Idempotency-Key.
"""

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.db import Database
from ozg_common.logging import correlated
from ozg_common.tasks import wait_until_set
from ozg_demo_receiver.control.service import Control
from ozg_demo_receiver.models import FINAL_STAGES, Application, Stage
from ozg_demo_receiver.processing import repository
from ozg_demo_receiver.processing.opening import PROBLEM_BASE, Rejection, open_application
from ozg_demo_receiver.processing.pdf import text_pdf
from ozg_demo_receiver.processing.return_channel import PdfAttachment, ReturnChannel, ReturnChannelError
from ozg_demo_receiver.settings import DemoReceiverSettings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12


class Clerk:
    """The background worker; `wake()` after storing a delivery, it also polls for retries."""

    def __init__(
        self,
        database: Database,
        settings: DemoReceiverSettings,
        control: Control,
        channel: ReturnChannel,
    ) -> None:
        self.database = database
        self.settings = settings
        self.control = control
        self.channel = channel
        self._wake = asyncio.Event()
        self._busy: set[str] = set()
        self._slots = asyncio.Semaphore(settings.answer_concurrency)
        self._key: RSAKey | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                await self._dispatch()
                await wait_until_set(self._wake, 1.0)
                self._wake.clear()
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _dispatch(self) -> None:
        if not self.settings.process_deliveries:
            return
        free = self.settings.answer_concurrency * 2 - len(self._busy)
        if free <= 0:
            return
        async with self.database.transaction() as session:
            batch = await repository.due(
                session, datetime.now(UTC), self._busy, free, include_paused=self.control.auto_answer
            )
            ids = [row.submission_id for row in batch]
        for submission_id in ids:
            self._busy.add(submission_id)
            task = asyncio.create_task(self._work(submission_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self, submission_id: str) -> None:
        try:
            async with self._slots:
                with correlated(submission_id):
                    await self._advance(submission_id)
        except Exception:
            logger.exception("processing an application failed unexpectedly")
        finally:
            self._busy.discard(submission_id)
            self._wake.set()

    async def _advance(self, submission_id: str) -> None:
        """Take the application one stage at a time until it is done or has to wait."""
        while True:
            async with self.database.transaction() as session:
                application = await repository.get(session, submission_id)
                if application is None or application.stage in FINAL_STAGES:
                    return
                try:
                    advanced = await self._step(session, application)
                    application.last_error = None
                except ReturnChannelError as exc:
                    self._postpone(application, str(exc), exc.retryable)
                    return
                except Exception as exc:
                    # A missing key file or a token endpoint that is down: try again later, visibly.
                    self._postpone(application, repr(exc), retryable=True)
                    return
            if not advanced:
                return

    def _postpone(self, application: Application, error: str, retryable: bool) -> None:
        application.attempts += 1
        application.last_error = error[:2000]
        if not retryable or application.attempts >= MAX_ATTEMPTS:
            application.stage = Stage.FAILED
            application.next_attempt_at = None
            logger.warning("giving up on an application", extra={"error": error[:300]})
            return
        delay = min(self.settings.retry_after_seconds * 2 ** (application.attempts - 1), 600)
        application.next_attempt_at = datetime.now(UTC) + timedelta(seconds=delay)

    async def _step(self, session: AsyncSession, app: Application) -> bool:
        """Do the next stage's work; False when the application waits (paused or done)."""
        now = datetime.now(UTC)
        if app.stage == Stage.RECEIVED and app.opened_at is None:
            await self._open(session, app)
            app.opened_at = datetime.now(UTC)
        if not self.control.auto_answer:
            # Paused: picked up again once answering is switched back on.
            app.next_attempt_at = None
            return False
        if app.stage == Stage.RECEIVED and app.problems:
            await self.channel.acknowledge(app.destination_id, app.case_id, "reject", app.problems)
            app.stage, app.rejected_at, app.next_attempt_at = Stage.REJECTED, now, None
            return False
        if app.stage == Stage.RECEIVED:
            await self.channel.acknowledge(app.destination_id, app.case_id, "accept", [])
            app.stage, app.accepted_at = Stage.ACCEPTED, now
        elif app.stage == Stage.ACCEPTED:
            note = "Ihr Antrag wird bearbeitet."
            await self.channel.status(app.destination_id, app.case_id, "PROCESSING", note)
            app.stage, app.processing_at = Stage.PROCESSING, now
        elif app.stage == Stage.PROCESSING:
            await self._reply(app)
            app.stage, app.replied_at = Stage.REPLIED, now
        elif app.stage == Stage.REPLIED:
            note = "Ihr Antrag ist abgeschlossen; der Bescheid liegt in Ihrem Postfach."
            await self.channel.status(app.destination_id, app.case_id, "COMPLETED", note)
            app.stage, app.completed_at, app.next_attempt_at = Stage.COMPLETED, now, None
            return False
        return True

    async def _open(self, session: AsyncSession, app: Application) -> None:
        """Decrypt and check the application; findings become the reasons to reject it."""
        delivery = await repository.delivery(session, app.first_delivery_id)
        if delivery is None:
            raise RuntimeError("the delivery of this application is missing")
        envelope = delivery.envelope
        if "encryptedMetadata" not in envelope:
            envelope = await self._pick_up(app)
        attachments: dict[str, str] = {}
        for ref in envelope.get("attachments") or []:
            content = ref.get("content") or await self.channel.download(
                app.destination_id, ref["downloadUrl"]
            )
            attachments[ref["attachmentId"]] = content
        key = self._destination_key()
        try:
            opened = await asyncio.to_thread(
                open_application,
                key,
                envelope["encryptedMetadata"],
                envelope.get("encryptedData"),
                attachments,
            )
            app.schema_uri, app.data_valid = opened.schema_uri, True
        except Rejection as rejection:
            app.data_valid, app.problems = False, rejection.problems
        if app.leika_key and app.leika_key in self.control.reject_leika_keys:
            app.problems = [
                *app.problems,
                {
                    "type": PROBLEM_BASE + "unsupported-service",
                    "title": "Leistung wird hier nicht bearbeitet",
                    "detail": f"Die Behörde bearbeitet die Leistung {app.leika_key} nicht.",
                },
            ]

    async def _pick_up(self, app: Application) -> dict[str, Any]:
        """After a FIT-Connect callback: fetch the submission from submission's subscriber API."""
        base = f"{self.settings.submission_url}/v1/submissions/{app.submission_id}"
        submission = await self.channel.fetch_json(app.destination_id, base)
        attachment_ids = submission.get("attachments") or []
        app.attachment_count = len(attachment_ids)
        return {
            "encryptedMetadata": submission["encryptedMetadata"],
            "encryptedData": submission.get("encryptedData"),
            "attachments": [
                {"attachmentId": aid, "downloadUrl": f"{base}/attachments/{aid}"} for aid in attachment_ids
            ],
        }

    def _destination_key(self) -> RSAKey:
        if self._key is None:
            path: Path = self.settings.destination_key_path
            self._key = RSAKey.import_key(json.loads(path.read_text()))
        return self._key

    async def _reply(self, app: Application) -> None:
        service = app.service_name or app.leika_key or "Ihr Antrag"
        title = f"Bescheid: {service}"
        received = app.received_at.astimezone(UTC).strftime("%d.%m.%Y %H:%M UTC")
        lines = [
            f"Vorgang (caseId): {app.case_id}",
            f"Antrag (submissionId): {app.submission_id}",
            f"Leistung: {service} ({app.leika_key or '-'})",
            f"Eingegangen am: {received}",
            "",
            "Sehr geehrte Antragstellerin, sehr geehrter Antragsteller,",
            "Ihr Antrag wurde geprüft und bewilligt.",
            "",
            "Dieser Bescheid wurde vom Demo-Fachverfahren des ozg-router erstellt.",
        ]
        pdf = PdfAttachment(filename=f"bescheid-{app.case_id}.pdf", content=text_pdf(title, lines))
        content = f"Ihr Antrag ({service}) wurde bewilligt. Den Bescheid finden Sie im Anhang."
        await self.channel.reply(app.destination_id, app.case_id, title, content, [pdf])

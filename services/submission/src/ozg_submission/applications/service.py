"""Native intake: resolve the route, check the form, render and validate XÖV XML, encrypt, and hand
the application to the core as submitted; answer where an application stands."""

import asyncio
import hashlib
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common import xoev
from ozg_common.auth import Principal
from ozg_common.bulk import single_write
from ozg_common.security_events import authentication_tag
from ozg_submission.applications.antrag import AUTHOR, Sealed, Upload, antragsteller_of, seal
from ozg_submission.applications.forms import SchemaError
from ozg_submission.applications.schemas import (
    ApplicationAnswer,
    ApplicationRequest,
    Fee,
    PaymentState,
)
from ozg_submission.applications.zufi import Route
from ozg_submission.directory.repository import (
    OfferedService,
    Recipient,
    get_service,
    service_and_destination,
)
from ozg_submission.directory.service import existing_destination, usable_destination
from ozg_submission.errors import ApplicationNotFound, FormDataInvalid, ServiceNotFound, TooLarge
from ozg_submission.identity.scopes import ADMIN, require_sender_may_send
from ozg_submission.lifecycle import machine, repository
from ozg_submission.lifecycle.content import Payloads, new_blob_key, store_payloads
from ozg_submission.lifecycle.metadata import version_for
from ozg_submission.models import Payment, Submission, SubmissionStatus
from ozg_submission.state import SubmissionState

ORIGIN = "native"


async def intake(
    session: AsyncSession,
    state: SubmissionState,
    principal: Principal,
    request: ApplicationRequest,
    uploads: list[Upload],
) -> ApplicationAnswer:
    """Take an application end to end, as far as it may go now (forwarded, or awaiting payment);
    what its sender is told.

    Nothing is written before everything is known: then the submission, its attachments, its
    event-log entries and its events are inserted together (one statement without attachments).
    """
    route = await _route(state, principal, request)
    if not uploads:
        # Without attachments everything is written by one statement (`machine.take_in`).
        await single_write(session)
    leistung, destination = await _service_and_destination(session, request.leika_key, route)
    _check_form(state, leistung, request.form_data)
    if len(uploads) > state.settings.max_attachments:
        raise TooLarge(f"At most {state.settings.max_attachments} attachments per application.")
    submission_id, case_id = uuid.uuid4(), uuid.uuid4()
    antrag = _antrag(request, route, leistung, destination, uploads, submission_id, case_id)
    payment = await _payment(session, leistung, case_id, request)
    sealed = await _sealed(state, antrag, uploads, request, destination, payment, leistung.payment_required)
    submission = Submission(
        id=submission_id,
        case_id=case_id,
        destination_id=destination.destination_id,
        sender_client_id=principal.client_id or principal.subject,
        leika_key=leistung.leika_key,
        service_name=leistung.name,
        origin=ORIGIN,
        announced_attachments=[anlage.anlage_id for anlage in antrag.anlagen],
        pending_metadata=sealed.pending_metadata,
        payment_required=leistung.payment_required,
        payment_transaction_id=request.payment_transaction_id,
        mailbox_uuid=request.mailbox_uuid,
    )
    await _record(session, state, submission, destination, sealed, payment)
    return await answer(session, state, submission, leistung)


async def _route(state: SubmissionState, principal: Principal, request: ApplicationRequest) -> Route:
    """Where the application goes (zufi), if its sender may send it there."""
    if request.destination_signature:
        route = await state.zufi.verify(request.destination_signature, leika_key=request.leika_key)
    else:
        route = await state.zufi.resolve(request.leika_key, ars=request.ars, ags=request.ags)
    require_sender_may_send(principal, request.leika_key, route.ars)
    return route


async def _service_and_destination(
    session: AsyncSession, leika_key: str, route: Route
) -> tuple[OfferedService, Recipient]:
    """The catalogue's service and the routed destination, both taking applications now."""
    leistung, destination = await service_and_destination(session, leika_key, route.destination_id)
    if leistung is None or not leistung.active:
        raise ServiceNotFound(f"Service {leika_key} is not in the catalogue.")
    destination = existing_destination(destination, route.destination_id)
    usable_destination(destination, leika_key)
    return leistung, destination


def _check_form(state: SubmissionState, leistung: OfferedService, form_data: dict[str, Any]) -> None:
    """The form data against the service's form schema, if it has one."""
    if leistung.form_schema is None:
        return
    try:
        problems = state.forms.problems(
            (leistung.leika_key, leistung.updated_at), leistung.form_schema, form_data
        )
    except SchemaError as exc:
        raise FormDataInvalid(
            f"The service's form schema is broken; tell the catalogue team: {exc.message}"
        ) from exc
    if problems:
        raise FormDataInvalid(f"{len(problems)} form fields are invalid.", invalid_params=problems)


def _antrag(
    request: ApplicationRequest,
    route: Route,
    leistung: OfferedService,
    destination: Recipient,
    uploads: list[Upload],
    submission_id: uuid.UUID,
    case_id: uuid.UUID,
) -> xoev.Antrag:
    """The XÖV message of the application, its uploads as Anlagen."""
    anlagen = [
        xoev.Anlage(
            anlage_id=str(uuid.uuid4()),
            dateiname=upload.filename,
            mime_type=upload.mime_type,
            groesse=len(upload.content),
            sha512=hashlib.sha512(upload.content).hexdigest(),
        )
        for upload in uploads
    ]
    return xoev.Antrag(
        nachricht_uuid=str(uuid.uuid4()),
        erstellungszeitpunkt=datetime.now(UTC),
        leser=xoev.Behoerde(kennung=destination.authority_id, name=destination.name),
        autor=AUTHOR,
        case_id=str(case_id),
        submission_id=str(submission_id),
        destination_id=destination.destination_id,
        leika_key=leistung.leika_key,
        leistung_name=leistung.name,
        ars=route.ars or None,
        gebiet_name=route.area_name or None,
        antragsteller=antragsteller_of(request.applicant),
        antragsdaten=request.form_data,
        anlagen=anlagen,
    )


async def _payment(
    session: AsyncSession, leistung: OfferedService, case_id: uuid.UUID, request: ApplicationRequest
) -> Payment | None:
    """The payment of the service's fee as last reported, if the service has one."""
    if not leistung.payment_required:
        return None
    return await repository.payment_for(
        session, case_id=case_id, transaction_id=request.payment_transaction_id
    )


async def _sealed(
    state: SubmissionState,
    antrag: xoev.Antrag,
    uploads: list[Upload],
    request: ApplicationRequest,
    destination: Recipient,
    payment: Payment | None,
    payment_required: bool,
) -> Sealed:
    """The application encrypted for its destination (off the event loop); the metadata held back
    while the fee is due, to carry the paymentInformation once it is paid."""
    wait_for_payment = machine.awaits_payment(payment_required, payment)
    return await asyncio.to_thread(
        seal,
        antrag,
        uploads,
        request,
        state.encryption_key(destination.encryption_kid, destination.encryption_key),
        destination.encryption_kid,
        version_for(destination.destination_id, destination.metadata_versions),
        payment.payment_information if payment and not wait_for_payment else None,
        wait_for_payment=wait_for_payment,
    )


async def _record(
    session: AsyncSession,
    state: SubmissionState,
    submission: Submission,
    destination: Recipient,
    sealed: Sealed,
    payment: Payment | None,
) -> None:
    """Store the payloads and the attachments, then have the core record the application as taken in."""
    now = datetime.now(UTC)
    await store_payloads(
        state, submission, sealed.metadata.encode() if sealed.metadata else None, sealed.data.encode()
    )
    attachments = []
    tags: dict[str, str] = {}
    for anlage, token in sealed.attachments:
        tags[anlage.anlage_id] = authentication_tag(token)
        stored = await state.blobs.put(
            new_blob_key(submission.id, f"attachment-{anlage.anlage_id}"), token.encode()
        )
        attachments.append(
            {
                "submission_id": submission.id,
                "attachment_id": uuid.UUID(anlage.anlage_id),
                "blob_key": stored.key,
                "size": stored.size,
                "sha512": stored.sha512,
                "authentication_tag": tags[anlage.anlage_id],
                "uploaded_at": now,
            }
        )
    await machine.take_in(
        session,
        state,
        submission,
        authority_name=destination.name,
        payment=payment,
        attachments=attachments,
        stored=Payloads(metadata=sealed.metadata, data=sealed.data, attachment_tags=tags),
        at=now,
    )


async def application_of(session: AsyncSession, principal: Principal, submission_id: uuid.UUID) -> Submission:
    """An application its sender (or an operator) asks about."""
    submission = await repository.get_submission(session, submission_id)
    sender = principal.client_id or principal.subject
    if submission is None or not (principal.has(ADMIN) or submission.sender_client_id == sender):
        raise ApplicationNotFound(f"No application {submission_id}.")
    return submission


def _total(fees: list[Fee]) -> str:
    return str(
        sum((Decimal(fee.price) * fee.quantity for fee in fees), Decimal("0")).quantize(Decimal("0.01"))
    )


async def _fees(session: AsyncSession, leika_key: str, known: OfferedService | None) -> list[dict[str, Any]]:
    """The service's fees: from its row at hand, else as the catalogue has them now."""
    if known is not None:
        fees: list[dict[str, Any]] = json.loads(known.fees)
        return fees
    leistung = await get_service(session, leika_key)
    return leistung.fees if leistung else []


async def answer(
    session: AsyncSession,
    state: SubmissionState,
    submission: Submission,
    service: OfferedService | None = None,
) -> ApplicationAnswer:
    """`service`: the submission's service, if just read (its fees need not be read again)."""
    payment: PaymentState | None = None
    if submission.payment_required:
        fees: list[Fee] = []
        if submission.status == SubmissionStatus.AWAITING_PAYMENT:
            fees = [Fee.model_validate(fee) for fee in await _fees(session, submission.leika_key, service)]
        payment = PaymentState(
            required=True,
            status=submission.payment_status,
            transaction_id=submission.payment_transaction_id,
            fees=fees,
            amount=_total(fees) if fees else None,
        )
    base = state.settings.public_base_url.rstrip("/")
    return ApplicationAnswer(
        submission_id=submission.id,
        case_id=submission.case_id,
        destination_id=submission.destination_id,
        status=submission.status,
        status_url=f"{base}/v1/applications/{submission.id}",
        payment=payment,
        delivery_error=submission.delivery_error,
    )

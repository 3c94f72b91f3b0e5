"""Native intake: resolve the route, check the form, render and validate XÖV XML, encrypt, submit."""

import asyncio
import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from joserfc.jwk import RSAKey
from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common import jose, xoev
from ozg_common.auth import Principal
from ozg_common.bulk import insert_rows, single_write, table_of, values_of
from ozg_common.events import Event
from ozg_common.problems import InvalidParam
from ozg_submission.applications.forms import SchemaError
from ozg_submission.applications.schemas import (
    Address,
    Applicant,
    ApplicationAnswer,
    ApplicationRequest,
    Fee,
    PaymentState,
)
from ozg_submission.applications.zufi import Route
from ozg_submission.context import SubmissionContext
from ozg_submission.directory.repository import (
    OfferedService,
    Recipient,
    get_service,
    service_and_destination,
)
from ozg_submission.directory.service import existing_destination
from ozg_submission.errors import (
    ApplicationNotFound,
    FormDataInvalid,
    ServiceNotFound,
    TooLarge,
    XmlSchemaInvalid,
)
from ozg_submission.eventlog import service as eventlog
from ozg_submission.eventlog.tokens import CREATE, FORWARD, SUBMIT
from ozg_submission.identity.scopes import ADMIN, require_sender_may_send
from ozg_submission.models import (
    Attachment,
    EventLogEntry,
    Submission,
    SubmissionStatus,
    outbox_table,
)
from ozg_submission.submissions import repository
from ozg_submission.submissions import service as submissions

METADATA_SCHEMA = "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"
ORIGIN = "native"
AUTHOR = xoev.Behoerde(kennung="ozg-router", name="ozg-router Antragsannahme")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file sent with the application (multipart)."""

    filename: str
    mime_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Sealed:
    """The encrypted message, its attachments and (unless it must wait for the payment) its metadata."""

    data: str
    metadata: str | None
    pending_metadata: dict[str, Any] | None
    attachments: list[tuple[xoev.Anlage, str]]


def _antragsteller(applicant: Applicant) -> xoev.Antragsteller:
    address: Address | None = applicant.address
    return xoev.Antragsteller(
        vorname=applicant.given_name,
        familienname=applicant.family_name,
        geburtsdatum=applicant.birth_date,
        email=applicant.email,
        telefon=applicant.phone,
        anschrift=xoev.Anschrift(
            strasse=address.street,
            hausnummer=address.house_number,
            postleitzahl=address.postal_code,
            ort=address.city,
            staat=address.country,
        )
        if address
        else None,
    )


def applicant_of(antragsteller: xoev.Antragsteller) -> Applicant:
    """The JSON applicant of an XML draft (the inverse of `_antragsteller`)."""
    a = antragsteller.anschrift
    return Applicant(
        given_name=antragsteller.vorname,
        family_name=antragsteller.familienname,
        birth_date=antragsteller.geburtsdatum,
        email=antragsteller.email,
        phone=antragsteller.telefon,
        address=Address(
            street=a.strasse,
            house_number=a.hausnummer,
            postal_code=a.postleitzahl,
            city=a.ort,
            country=a.staat,
        )
        if a
        else None,
    )


def _metadata(
    request: ApplicationRequest, namespace: str, xml: bytes, anlagen: list[xoev.Anlage]
) -> dict[str, Any]:
    """FIT-Connect metadata 1.0.0: hashes of the plaintext, schema, references, reply channel."""
    metadata: dict[str, Any] = {
        "$schema": METADATA_SCHEMA,
        "contentStructure": {
            "data": {
                "hash": {"type": "sha512", "content": hashlib.sha512(xml).hexdigest()},
                "submissionSchema": {"schemaUri": namespace, "mimeType": "application/xml"},
            },
            "attachments": [
                {
                    "attachmentId": anlage.anlage_id,
                    "hash": {"type": "sha512", "content": anlage.sha512},
                    "purpose": "attachment",
                    "mimeType": anlage.mime_type,
                    "filename": anlage.dateiname,
                }
                for anlage in anlagen
            ],
        },
        "additionalReferenceInfo": {"applicationDate": datetime.now(UTC).date().isoformat()},
    }
    if request.sender_reference:
        metadata["additionalReferenceInfo"]["senderReference"] = request.sender_reference
    if request.reply_channel:
        metadata["replyChannel"] = request.reply_channel
    return metadata


def _seal(
    antrag: xoev.Antrag,
    uploads: list[Upload],
    request: ApplicationRequest,
    key: RSAKey,
    kid: str,
    payment_information: dict[str, Any] | None,
    wait_for_payment: bool,
) -> Sealed:
    """Render, validate and encrypt (one thread hop: all of it is CPU work)."""
    try:
        tree = xoev.build_antrag(antrag)
    except ValueError as exc:
        raise XmlSchemaInvalid(f"The application cannot be expressed as XML: {exc}.") from exc
    try:
        xoev.validate_tree(tree)
    except xoev.XmlInvalid as exc:
        raise XmlSchemaInvalid(
            "The rendered XÖV message does not conform to its XSD.",
            invalid_params=[InvalidParam(name=v.path, reason=v.reason) for v in exc.violations],
        ) from exc
    xml = xoev.serialize(tree)
    metadata = _metadata(request, xoev.ANTRAG_NAMESPACE, xml, list(antrag.anlagen))
    sealed_metadata: str | None = None
    if not wait_for_payment:
        if payment_information:
            metadata["paymentInformation"] = payment_information
        sealed_metadata = jose.encrypt(
            json.dumps(metadata, ensure_ascii=False).encode(), key, content_type="application/json", kid=kid
        )
    return Sealed(
        data=jose.encrypt(xml, key, content_type="application/xml", kid=kid),
        metadata=sealed_metadata,
        pending_metadata=metadata if wait_for_payment else None,
        attachments=[
            (anlage, jose.encrypt(upload.content, key, content_type=upload.mime_type, kid=kid))
            for anlage, upload in zip(antrag.anlagen, uploads, strict=True)
        ],
    )


async def resolve(context: SubmissionContext, request: ApplicationRequest) -> Route:
    if request.destination_signature:
        return await context.zufi.verify(request.destination_signature, leika_key=request.leika_key)
    return await context.zufi.resolve(request.leika_key, ars=request.ars, ags=request.ags)


def _check_form(context: SubmissionContext, leistung: OfferedService, form_data: dict[str, Any]) -> None:
    if leistung.form_schema is None:
        return
    try:
        problems = context.forms.problems(
            (leistung.leika_key, leistung.updated_at), leistung.form_schema, form_data
        )
    except SchemaError as exc:
        raise FormDataInvalid(
            f"The service's form schema is broken; tell the catalogue team: {exc.message}"
        ) from exc
    if problems:
        raise FormDataInvalid(f"{len(problems)} form fields are invalid.", invalid_params=problems)


async def intake(
    session: AsyncSession,
    context: SubmissionContext,
    principal: Principal,
    request: ApplicationRequest,
    uploads: list[Upload],
) -> ApplicationAnswer:
    """Take an application end to end, as far as it may go now (forwarded, or awaiting payment);
    what its sender is told.

    Nothing is written before everything is known: then the submission, its attachments, its
    event-log entries and its events are inserted together (one statement without attachments).
    """
    route = await resolve(context, request)
    require_sender_may_send(principal, request.leika_key, route.ars)
    if not uploads:
        # Without attachments everything is written by one statement (see the end).
        await single_write(session)
    leistung, destination = await service_and_destination(session, request.leika_key, route.destination_id)
    if leistung is None or not leistung.active:
        raise ServiceNotFound(f"Service {request.leika_key} is not in the catalogue.")
    destination = existing_destination(destination, route.destination_id)
    submissions.usable_destination(destination, request.leika_key)
    _check_form(context, leistung, request.form_data)
    if len(uploads) > context.settings.max_attachments:
        raise TooLarge(f"At most {context.settings.max_attachments} attachments per application.")

    submission_id, case_id = uuid.uuid4(), uuid.uuid4()
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
    antrag = xoev.Antrag(
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
        antragsteller=_antragsteller(request.applicant),
        antragsdaten=request.form_data,
        anlagen=anlagen,
    )
    payment = None
    if leistung.payment_required:
        payment = await repository.payment_for(
            session, case_id=case_id, transaction_id=request.payment_transaction_id
        )
    paid = payment is not None and payment.status == submissions.PAYED
    forwarded = paid or not leistung.payment_required
    sealed = await asyncio.to_thread(
        _seal,
        antrag,
        uploads,
        request,
        context.encryption_key(destination.encryption_kid, destination.encryption_key),
        destination.encryption_kid,
        payment.payment_information if payment and paid else None,
        wait_for_payment=not forwarded,
    )

    now = datetime.now(UTC)
    submission = Submission(
        id=submission_id,
        case_id=case_id,
        destination_id=destination.destination_id,
        sender_client_id=principal.client_id or principal.subject,
        leika_key=leistung.leika_key,
        service_name=leistung.name,
        origin=ORIGIN,
        status=SubmissionStatus.FORWARDED if forwarded else SubmissionStatus.AWAITING_PAYMENT,
        announced_attachments=[anlage.anlage_id for anlage in anlagen],
        pending_metadata=sealed.pending_metadata,
        payment_required=leistung.payment_required,
        payment_transaction_id=payment.transaction_id if payment and paid else request.payment_transaction_id,
        payment_status=payment.status if payment else None,
        mailbox_uuid=request.mailbox_uuid,
        reminders_sent=0,
        created_at=now,
        submitted_at=now,
        forwarded_at=now if forwarded else None,
        last_event_at=now,
    )
    await _record(session, context, submission, destination, sealed)
    return await answer(session, context, submission, leistung)


async def _record(
    session: AsyncSession,
    context: SubmissionContext,
    submission: Submission,
    destination: Recipient,
    sealed: Sealed,
) -> None:
    """Store the payloads, then insert the submission, its attachments, its event-log entries
    and its events."""
    now = submission.created_at
    await submissions.store_payloads(
        context, submission, sealed.metadata.encode() if sealed.metadata else None, sealed.data.encode()
    )
    attachments = []
    for anlage, token in sealed.attachments:
        stored = await context.blobs.put(
            submissions.new_blob_key(submission.id, f"attachment-{anlage.anlage_id}"), token.encode()
        )
        attachments.append(
            {
                "submission_id": submission.id,
                "attachment_id": uuid.UUID(anlage.anlage_id),
                "blob_key": stored.key,
                "size": stored.size,
                "sha512": stored.sha512,
                "uploaded_at": now,
            }
        )
    # Created, submitted and (unless a fee is still due) forwarded right here.
    forwarded = submission.status == SubmissionStatus.FORWARDED
    events = [CREATE, SUBMIT, FORWARD] if forwarded else [CREATE, SUBMIT]
    log = [eventlog.entry(submission, event, now) for event in events]
    staged = [
        (table_of(Submission), [values_of(submission)]),
        (table_of(Attachment), attachments),
        (table_of(EventLogEntry), log),
    ]
    if attachments:
        # The forward event lists the attachments from the database.
        await insert_rows(session, staged)
        staged = []
    published: list[Event] = [submissions.submitted_event(submission, destination.name)]
    if forwarded:
        just_stored = submissions.Payloads(metadata=sealed.metadata, data=sealed.data)
        published.append(await submissions.ready_event(session, context, submission, just_stored))
    await insert_rows(session, [*staged, (outbox_table, context.outbox.rows(published))])
    context.metrics.submissions.labels(ORIGIN, submission.status).inc()


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
    context: SubmissionContext,
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
    base = context.settings.public_base_url.rstrip("/")
    return ApplicationAnswer(
        submission_id=submission.id,
        case_id=submission.case_id,
        destination_id=submission.destination_id,
        status=submission.status,
        status_url=f"{base}/v1/applications/{submission.id}",
        payment=payment,
        delivery_error=submission.delivery_error,
    )

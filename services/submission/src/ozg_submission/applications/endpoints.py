"""Native intake for forms without their own crypto: JSON, multipart with files, or XML."""

import asyncio
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from ozg_common import xoev
from ozg_common.auth import SenderDep, SenderOrAdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import InvalidParam, problem_responses
from ozg_common.service import EventsUnavailable, KafkaWritable
from ozg_submission.applications import service
from ozg_submission.applications.antrag import Upload, applicant_of
from ozg_submission.applications.schemas import ApplicationAnswer, ApplicationRequest
from ozg_submission.errors import (
    AmbiguousArea,
    ApplicationNotFound,
    DestinationNotFound,
    DestinationStateInvalid,
    FormDataInvalid,
    InvalidApplication,
    InvalidDestinationSignature,
    MetadataInvalid,
    MetadataVersionNotTaken,
    NotPermitted,
    RouteNotFound,
    ServiceNotFound,
    ServiceNotOffered,
    TooLarge,
    WrongMediaType,
    XmlRejectedProblem,
    XmlSchemaInvalid,
    ZufiUnavailable,
)
from ozg_submission.state import StateDep

router = APIRouter(prefix="/v1/applications", tags=["native intake"])

_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": ApplicationRequest.model_json_schema(by_alias=True)},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "application": {"type": "string", "description": "The JSON application"},
                        "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
                    },
                    "required": ["application"],
                }
            },
            "application/xml": {
                "schema": {"type": "string", "description": "an antragsentwurf.0001 document"}
            },
        },
    }
}


def _parsed(raw: Any) -> ApplicationRequest:
    try:
        return ApplicationRequest.model_validate(raw)
    except ValidationError as exc:
        raise InvalidApplication(
            "The application does not match the expected shape.",
            invalid_params=[
                InvalidParam(name=".".join(str(p) for p in e["loc"]) or "body", reason=e["msg"])
                for e in exc.errors()
            ],
        ) from exc


async def _body(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise TooLarge(f"An application may have at most {limit} bytes.")
    return bytes(body)


def _json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InvalidApplication("The application is not valid JSON.") from exc


async def _from_xml(document: bytes) -> ApplicationRequest:
    """A form's own `antragsentwurf.0001`: parsed with DTDs and entities refused, then its XSD."""

    def read() -> xoev.Antragsentwurf:
        tree = xoev.parse_safely(document)
        xoev.validate_tree(tree)
        return xoev.read_antragsentwurf(tree)

    try:
        draft = await asyncio.to_thread(read)
    except xoev.XmlInvalid as exc:
        raise XmlSchemaInvalid(
            str(exc), invalid_params=[InvalidParam(name=v.path, reason=v.reason) for v in exc.violations]
        ) from exc
    except xoev.XmlRejected as exc:
        raise XmlRejectedProblem(str(exc)) from exc
    return ApplicationRequest(
        leika_key=draft.leika_key,
        ars=draft.ars,
        ags=draft.ags,
        destination_signature=draft.destination_signature,
        applicant=applicant_of(draft.antragsteller),
        form_data=draft.antragsdaten,
        sender_reference=draft.referenz,
    )


async def _from_multipart(request: Request, state: StateDep) -> tuple[ApplicationRequest, list[Upload]]:
    settings = state.settings
    form = await request.form(max_files=settings.max_attachments, max_fields=10)
    try:
        application = form.get("application")
        if application is None:
            raise InvalidApplication("The multipart body lacks its `application` part.")
        raw = await application.read() if isinstance(application, UploadFile) else application
        parsed = _parsed(_json(raw))
        uploads: list[Upload] = []
        total = 0
        for item in form.getlist("attachments"):
            if not isinstance(item, UploadFile):
                raise InvalidApplication("`attachments` parts must be files.")
            content = await item.read()
            total += len(content)
            if len(content) > settings.max_attachment_bytes or total > settings.max_application_bytes:
                raise TooLarge("The attachments exceed the size limit.")
            uploads.append(
                Upload(
                    filename=(item.filename or "anlage")[:255],
                    mime_type=item.content_type or "application/octet-stream",
                    content=content,
                )
            )
        return parsed, uploads
    finally:
        await form.close()


@router.post(
    "",
    status_code=201,
    summary="Submit an application: routed, validated, rendered as XÖV XML and encrypted here",
    openapi_extra=_REQUEST_BODY,
    dependencies=[KafkaWritable],
    responses=problem_responses(
        EventsUnavailable,
        InvalidApplication,
        XmlRejectedProblem,
        NotPermitted,
        ServiceNotFound,
        RouteNotFound,
        DestinationNotFound,
        TooLarge,
        WrongMediaType,
        FormDataInvalid,
        XmlSchemaInvalid,
        MetadataInvalid,
        MetadataVersionNotTaken,
        AmbiguousArea,
        InvalidDestinationSignature,
        DestinationStateInvalid,
        ServiceNotOffered,
        ZufiUnavailable,
    ),
)
async def submit_application(
    request: Request, session: SessionDep, state: StateDep, principal: SenderDep
) -> ApplicationAnswer:
    limit = state.settings.max_application_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"An application may have at most {limit} bytes.")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    uploads: list[Upload] = []
    if media_type == "application/json":
        application = _parsed(_json(await _body(request, limit)))
    elif media_type in {"application/xml", "text/xml"}:
        application = await _from_xml(await _body(request, limit))
    elif media_type == "multipart/form-data":
        application, uploads = await _from_multipart(request, state)
    else:
        raise WrongMediaType("Send application/json, multipart/form-data or application/xml.")
    return await service.intake(session, state, principal, application, uploads)


@router.get(
    "/{submission_id}",
    summary="Where an application stands (its sender or an operator)",
    responses=problem_responses(ApplicationNotFound),
)
async def application_status(
    submission_id: uuid.UUID, session: SessionDep, state: StateDep, principal: SenderOrAdminDep
) -> ApplicationAnswer:
    submission = await service.application_of(session, principal, submission_id)
    return await service.answer(session, state, submission)

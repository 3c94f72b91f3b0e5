"""Accepting a KOP delivery: is it really from our gateway, is it fresh, is it new? Then store it."""

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from pydantic import ValidationError

from ozg_common.problems import InvalidParam
from ozg_common.webhooks import (
    NEW_SUBMISSIONS_CALLBACK,
    WebhookVerificationError,
    derive_destination_secret,
    verify_fit_connect_callback,
    verify_standard_webhook,
)
from ozg_demo_receiver.errors import EnvelopeInvalid, SignatureInvalid
from ozg_demo_receiver.kop.repository import DeliveryStore, Values
from ozg_demo_receiver.kop.schemas import Envelope, NewSubmissionsCallback, Receipt
from ozg_demo_receiver.models import Stage
from ozg_demo_receiver.settings import DemoReceiverSettings


def destination_secret(settings: DemoReceiverSettings, destination_id: str) -> str:
    """The secret the gateway signs this destination's deliveries with."""
    explicit = settings.destination_secrets.get(destination_id)
    return (
        explicit.get_secret_value()
        if explicit
        else derive_destination_secret(settings.master_secret(), destination_id)
    )


def verify_signature(
    settings: DemoReceiverSettings, destination_id: str, headers: Mapping[str, str], body: bytes
) -> str | None:
    """Check either signature scheme; returns the Standard Webhooks message id when there is one."""
    secret = destination_secret(settings, destination_id)
    tolerance = settings.timestamp_tolerance
    try:
        if "webhook-signature" in headers:
            return verify_standard_webhook(secret, headers, body, tolerance=tolerance)
        if "callback-authentication" in headers:
            verify_fit_connect_callback(secret, headers, body, tolerance=tolerance)
            return None
    except WebhookVerificationError as exc:
        raise SignatureInvalid(str(exc)) from exc
    raise SignatureInvalid("neither Standard Webhooks nor FIT-Connect callback signature headers present")


def parse_envelope(destination_id: str, body: bytes) -> Envelope | NewSubmissionsCallback:
    try:
        document = json.loads(body)
        is_callback = isinstance(document, dict) and document.get("type") == NEW_SUBMISSIONS_CALLBACK
        if is_callback:
            callback = NewSubmissionsCallback.model_validate(document)
            if any(ref.destination_id != destination_id for ref in callback.submissions):
                raise EnvelopeInvalid("A callback names a submission of another destination.")
            return callback
        envelope = Envelope.model_validate(document)
    except (ValueError, ValidationError) as exc:
        params = (
            [InvalidParam(name=".".join(map(str, e["loc"])), reason=e["msg"]) for e in exc.errors()]
            if isinstance(exc, ValidationError)
            else None
        )
        raise EnvelopeInvalid("The body is not a KOP delivery envelope.", invalid_params=params) from exc
    if envelope.destination_id != destination_id:
        raise EnvelopeInvalid("destinationId in the body differs from the URL.")
    if envelope.type == "submission" and not (
        envelope.submission_id and envelope.case_id and envelope.encrypted_metadata
    ):
        raise EnvelopeInvalid("A submission needs submissionId, caseId and encryptedMetadata.")
    return envelope


async def receive(
    store: DeliveryStore,
    settings: DemoReceiverSettings,
    destination_id: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Receipt:
    """Store a verified delivery once; a repeat of the same delivery id is answered, not stored."""
    message_id = verify_signature(settings, destination_id, headers, body)
    parsed = parse_envelope(destination_id, body)
    if isinstance(parsed, NewSubmissionsCallback):
        return await _announced(store, parsed)
    delivery_id = message_id or parsed.delivery_id
    [is_new] = await store.add(_rows(parsed, delivery_id))
    return Receipt(delivery_id=delivery_id, status="received" if is_new else "duplicate")


async def _announced(store: DeliveryStore, callback: NewSubmissionsCallback) -> Receipt:
    """FIT-Connect callback: note the submissions; the worker fetches them from submission's API."""
    rows = []
    for ref in callback.submissions:
        envelope = Envelope(
            type="submission",
            delivery_id=f"callback:{ref.submission_id}",
            destination_id=ref.destination_id,
            submission_id=ref.submission_id,
            case_id=ref.case_id,
        )
        rows.append(_rows(envelope, envelope.delivery_id))
    fresh = await store.add(*rows)
    delivery_id = f"callback:{callback.submissions[0].submission_id}"
    return Receipt(delivery_id=delivery_id, status="received" if any(fresh) else "duplicate")


def _rows(envelope: Envelope, delivery_id: str) -> tuple[Values, Values | None]:
    """The delivery's row, and its application's when it brings a submission."""
    now = datetime.now(UTC)
    delivery = {
        "delivery_id": delivery_id,
        "kind": envelope.type,
        "destination_id": envelope.destination_id,
        "submission_id": envelope.submission_id,
        "case_id": envelope.case_id,
        "received_at": now,
        "repeats": 0,
        "envelope": envelope.model_dump(mode="json", by_alias=True, exclude_none=True),
    }
    if envelope.type != "submission":
        return delivery, None
    assert envelope.submission_id is not None
    assert envelope.case_id is not None
    service = envelope.service
    return delivery, {
        "submission_id": envelope.submission_id,
        "case_id": envelope.case_id,
        "destination_id": envelope.destination_id,
        "leika_key": service.leika_key if service else None,
        "service_name": service.name if service else None,
        "first_delivery_id": delivery_id,
        "deliveries": 1,
        "received_at": now,
        "stage": Stage.RECEIVED,
        "attachment_count": len(envelope.attachments),
        "problems": [],
        "attempts": 0,
        "next_attempt_at": now,
    }

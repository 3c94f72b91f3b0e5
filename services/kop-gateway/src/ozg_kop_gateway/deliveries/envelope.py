"""The JSON envelope a destination receives (contracts.md), and the FIT-Connect callback body."""

import json
import uuid
from typing import Any

from ozg_common.contracts.mailbox import MailboxMessageRead
from ozg_common.contracts.submission import CitizenReplyReadyForDelivery, SubmissionReadyForDelivery
from ozg_common.webhooks import NEW_SUBMISSIONS_CALLBACK, fit_connect_callback_body
from ozg_kop_gateway.models import DeliveryKind


def submission_payload(event: SubmissionReadyForDelivery) -> dict[str, Any]:
    return {
        "destinationId": event.destination_id,
        "submissionId": event.submission_id,
        "caseId": event.case_id,
        "service": {"leikaKey": event.leika_key, "name": event.service_name},
        "encryptedMetadata": event.encrypted_metadata,
        "encryptedData": event.encrypted_data,
        "attachments": [
            {
                "attachmentId": a.attachment_id,
                "size": a.size,
                "sha512": a.sha512,
                "downloadUrl": a.download_url,
                **({"content": a.content} if a.content is not None else {}),
            }
            for a in event.attachments
        ],
    }


def reply_payload(event: CitizenReplyReadyForDelivery) -> dict[str, Any]:
    return {
        "destinationId": event.destination_id,
        "submissionId": event.submission_id,
        "caseId": event.case_id,
        "replyId": event.reply_id,
        "inReplyTo": event.in_reply_to,
        "encryptedReply": event.encrypted_reply,
    }


def read_receipt_payload(event: MailboxMessageRead, submission_id: str | None) -> dict[str, Any]:
    return {
        "destinationId": event.destination_id,
        "submissionId": submission_id,
        "caseId": event.case_id,
        "messageId": event.message_id,
        "readAt": event.read_at.isoformat(),
    }


def request_body(
    delivery_id: uuid.UUID, kind: DeliveryKind, payload: dict[str, Any], *, callback: bool
) -> bytes:
    """The bytes POSTed (and signed): the full envelope, or only the new-submissions callback."""
    if callback:
        return fit_connect_callback_body(NEW_SUBMISSIONS_CALLBACK, [payload])
    document = {"type": kind.value, "deliveryId": str(delivery_id), **payload}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

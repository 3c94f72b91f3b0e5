"""The application as XÖV XML (`antrag.0001`), its FIT-Connect metadata, and both sealed (JWE) for
the destination."""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc.jwk import RSAKey

from ozg_common import jose, xoev
from ozg_common.problems import InvalidParam
from ozg_submission.applications.schemas import Address, Applicant, ApplicationRequest
from ozg_submission.errors import XmlSchemaInvalid
from ozg_submission.lifecycle import metadata as fit_connect_metadata

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


def antragsteller_of(applicant: Applicant) -> xoev.Antragsteller:
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
    """The JSON applicant of an XML draft (the inverse of `antragsteller_of`)."""
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
    request: ApplicationRequest, version: str, namespace: str, xml: bytes, anlagen: list[xoev.Anlage]
) -> dict[str, Any]:
    """FIT-Connect metadata of `version`: hashes of the plaintext, schema, references, reply channel.

    What the suite writes has the same shape in 1.0.0 and 2.1.0; 1.0.0 has no `$schema` member of
    its own but allows it, and it names the version for whoever reads the document.
    """
    metadata: dict[str, Any] = {
        "$schema": fit_connect_metadata.schema_uri(version),
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


def seal(
    antrag: xoev.Antrag,
    uploads: list[Upload],
    request: ApplicationRequest,
    key: RSAKey,
    kid: str,
    metadata_version: str,
    payment_information: dict[str, Any] | None,
    wait_for_payment: bool,
) -> Sealed:
    """Render, validate and encrypt (one thread hop: all of it is CPU work).

    The metadata is checked against its schema even while it waits for the payment: what is wrong
    with it is the sender's to hear now, not the payment's to find later.
    """
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
    metadata = _metadata(request, metadata_version, xoev.ANTRAG_NAMESPACE, xml, list(antrag.anlagen))
    sealed_metadata: str | None = None
    if not wait_for_payment and payment_information:
        metadata["paymentInformation"] = fit_connect_metadata.payment_information(payment_information)
    fit_connect_metadata.check(metadata)
    if not wait_for_payment:
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

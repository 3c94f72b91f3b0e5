"""Opening a delivered application: decrypt, check hashes, validate the data against its schema.

Runs in a worker thread: RSA-4096 and XSD validation would otherwise stall the event loop.
Every finding is a problem in FIT-Connect's reject-submission form, so it can go back as is.
"""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import RSAKey

from ozg_common import jose
from ozg_demo_receiver.processing import xml_schema

PROBLEM_BASE = "https://schema.fitko.de/fit-connect/events/problems/"


def problem(slug: str, title: str, detail: str) -> dict[str, Any]:
    return {"type": PROBLEM_BASE + slug, "title": title, "detail": detail}


class Rejection(Exception):
    """The application cannot be processed; `problems` say why."""

    def __init__(self, *problems: dict[str, Any]) -> None:
        super().__init__("; ".join(p["detail"] for p in problems))
        self.problems = list(problems)


@dataclass
class Opened:
    """What the Fachverfahren learned from an application."""

    metadata: dict[str, Any]
    schema_uri: str | None
    mime_type: str | None
    data: bytes | None
    attachments: dict[str, bytes] = field(default_factory=dict)


def decrypt(key: RSAKey, token: str, what: str) -> tuple[bytes, str | None]:
    try:
        header, plaintext = jose.decrypt(token, key)
    except jose.InvalidJwe as exc:
        detail = f"{what}: {exc}"
        raise Rejection(problem("encryption-issue", "Entschlüsselung fehlgeschlagen", detail)) from exc
    return plaintext, header.cty


def _hash_matches(expected: dict[str, Any] | None, plaintext: bytes, token: str) -> bool:
    """FIT-Connect hashes the unencrypted content; a hash of the JWE itself is accepted too."""
    if not expected or expected.get("type", "sha512") != "sha512":
        return True
    content = str(expected.get("content", "")).lower()
    return content in {hashlib.sha512(plaintext).hexdigest(), hashlib.sha512(token.encode()).hexdigest()}


def open_application(
    key: RSAKey, encrypted_metadata: str, encrypted_data: str | None, attachments: dict[str, str]
) -> Opened:
    """Decrypt and check everything; raises `Rejection` with the problems found."""
    raw_metadata, _ = decrypt(key, encrypted_metadata, "encryptedMetadata")
    try:
        metadata = json.loads(raw_metadata)
        structure = metadata["contentStructure"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Rejection(
            problem("syntax-violation", "Metadaten unlesbar", "metadata is not FIT-Connect JSON")
        ) from exc
    data_info = structure.get("data") or {}
    schema = data_info.get("submissionSchema") or {}
    opened = Opened(metadata, schema.get("schemaUri"), schema.get("mimeType"), None)
    problems: list[dict[str, Any]] = []
    described = {a.get("attachmentId"): a for a in structure.get("attachments") or []}
    for attachment_id, token in attachments.items():
        plaintext, _ = decrypt(key, token, f"attachment {attachment_id}")
        if not _hash_matches((described.get(attachment_id) or {}).get("hash"), plaintext, token):
            problems.append(problem("hash-mismatch", "Prüfsumme falsch", f"attachment {attachment_id}"))
        opened.attachments[attachment_id] = plaintext
    if encrypted_data:
        opened.data, cty = decrypt(key, encrypted_data, "encryptedData")
        opened.mime_type = opened.mime_type or cty
        if not _hash_matches(data_info.get("hash"), opened.data, encrypted_data):
            problems.append(
                problem("hash-mismatch", "Prüfsumme falsch", "data hash differs from the metadata")
            )
    else:
        form = [
            aid for aid, a in described.items() if a.get("purpose") == "form" and aid in opened.attachments
        ]
        if not form:
            problems.append(problem("missing-data", "Fachdaten fehlen", "neither encryptedData nor a form"))
        else:
            opened.data = opened.attachments[form[0]]
            opened.mime_type = opened.mime_type or described[form[0]].get("mimeType")
    if opened.data is not None and opened.mime_type and "xml" in opened.mime_type:
        problems.extend(
            problem("schema-violation", "Schemaverletzung", finding)
            for finding in xml_schema.findings(opened.data)
        )
    if problems:
        raise Rejection(*problems)
    return opened

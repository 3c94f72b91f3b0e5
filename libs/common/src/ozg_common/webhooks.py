"""Signed webhooks: Standard Webhooks and FIT-Connect callbacks, for senders and receivers alike.

Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` and
`webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
(several during a secret rotation). Secrets look like `whsec_<base64 key>`; the HMAC key is the
decoded part (a secret without the prefix is used as its UTF-8 bytes).

FIT-Connect callbacks: a JSON body `{"type", "submissionIds", "submissions"}` (`submissionIds` is
deprecated but still sent), headers `callback-timestamp` (Unix seconds) and `callback-authentication`,
the hex HMAC-SHA512 over `"{timestamp}.{body}"` keyed with the secret string's UTF-8 bytes.

Receivers reject timestamps more than five minutes away from their clock and compare in constant time.
"""

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from ozg_common.keys import write_once

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE = 300
"""Seconds a signed timestamp may differ from the receiver's clock (both schemes: five minutes)."""

MASTER_SECRET_FILE = Path("secrets") / "webhook-signing-master-secret"
"""Below the var dir: the dev master secret kop-gateway and the demo receiver share when unset."""

_DERIVATION_LABEL = "ozg-router/webhook-secret/"

SLOW_DOWN_STATUSES = frozenset({429, 502, 503, 504})
"""Answers whose Retry-After header is honoured (Standard Webhooks: "slow down")."""

NEW_SUBMISSIONS_CALLBACK = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-submissions"
"""Type of the callback a subscriber gets when submissions wait for it (standards.md §1)."""


class WebhookVerificationError(ValueError):
    """The request is not signed by any of the expected secrets (or is stale)."""


def derive_destination_secret(master_secret: str, destination_id: str) -> str:
    """The secret of a destination without an explicit one (contracts.md): `whsec_` + base64 HMAC."""
    digest = hmac.new(
        master_secret.encode(), (_DERIVATION_LABEL + destination_id).encode(), hashlib.sha256
    ).digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode()


def generate_secret(size: int = 32) -> str:
    """A fresh random secret in Standard Webhooks form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(size)).decode()


def standard_webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except binascii.Error as exc:
            raise ValueError("a whsec_ secret must be base64") from exc
    return secret.encode()


def standard_webhook_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of a message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_webhook_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_standard_webhook(
    secrets_: Iterable[str], message_id: str, body: bytes, *, timestamp: int | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every given secret (rotation overlap)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signatures = [standard_webhook_signature(s, message_id, timestamp, body) for s in secrets_]
    if not signatures:
        raise ValueError("at least one secret is needed to sign")
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def verify_standard_webhook(
    secrets_: str | Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> str:
    """Check a Standard Webhooks request; returns its `webhook-id` for deduplication."""
    lowered = _lowered(headers)
    message_id = lowered.get("webhook-id", "")
    signature_header = lowered.get("webhook-signature", "")
    if not message_id or not signature_header:
        raise WebhookVerificationError("missing webhook-id or webhook-signature")
    timestamp = _fresh_timestamp(lowered.get("webhook-timestamp", ""), tolerance, now)
    offered = [
        value for version, _, value in (s.partition(",") for s in signature_header.split()) if version == "v1"
    ]
    for secret in [secrets_] if isinstance(secrets_, str) else list(secrets_):
        expected = standard_webhook_signature(secret, message_id, timestamp, body).partition(",")[2]
        if any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in offered):
            return message_id
    raise WebhookVerificationError("no matching v1 signature")


def fit_connect_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA512 of a FIT-Connect callback."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha512).hexdigest()


def fit_connect_callback_body(callback_type: str, submissions: Sequence[Mapping[str, str]]) -> bytes:
    """The bytes of a FIT-Connect callback naming `submissions` (each `destinationId`, `submissionId`,
    `caseId`), as POSTed and signed."""
    document = {
        "type": callback_type,
        "submissionIds": [s["submissionId"] for s in submissions],
        "submissions": [
            {"destinationId": s["destinationId"], "submissionId": s["submissionId"], "caseId": s["caseId"]}
            for s in submissions
        ],
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def sign_fit_connect_callback(secret: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The two FIT-Connect callback headers."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {
        "callback-timestamp": str(timestamp),
        "callback-authentication": fit_connect_signature(secret, timestamp, body),
    }


def verify_fit_connect_callback(
    secrets_: str | Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a FIT-Connect callback against any of the secrets."""
    lowered = _lowered(headers)
    offered = lowered.get("callback-authentication", "").strip().lower()
    if not offered:
        raise WebhookVerificationError("missing callback-authentication")
    timestamp = _fresh_timestamp(lowered.get("callback-timestamp", ""), tolerance, now)
    for secret in [secrets_] if isinstance(secrets_, str) else list(secrets_):
        if hmac.compare_digest(fit_connect_signature(secret, timestamp, body).encode(), offered.encode()):
            return
    raise WebhookVerificationError("callback-authentication does not match")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def load_or_create_secret(path: Path) -> str:
    """A dev secret kept in a file (mode 0600) outside git; created once, shared by processes."""
    return write_once(path, secrets.token_urlsafe(48)).strip()


def _lowered(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _fresh_timestamp(raw: str, tolerance: int, now: float | None) -> int:
    try:
        timestamp = int(raw)
    except ValueError as exc:
        raise WebhookVerificationError("missing or malformed timestamp") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("timestamp outside the tolerance")
    return timestamp

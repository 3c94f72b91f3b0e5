"""Signed webhooks: Standard Webhooks and FIT-Connect callbacks, for senders and receivers alike.

Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` and
`webhook-signature`, a space-separated list of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
(several during a secret rotation). Secrets look like `whsec_<base64 key>`; the HMAC key is the
decoded part (a secret without the prefix is used as its UTF-8 bytes).

FIT-Connect callbacks: a JSON body `{"type", "submissionIds", "submissions"}` (`submissionIds` is
deprecated but still sent), headers `callback-timestamp` (Unix seconds) and `callback-authentication`,
the hex HMAC-SHA512 over `"{timestamp}.{body}"` keyed with the secret string's UTF-8 bytes.

Receivers reject timestamps more than five minutes away from their clock and compare in constant time.

Senders call only public endpoints unless their settings allow more (`TargetGuard`, the SSRF guard): a
URL is checked before each call (scheme, credentials, an address written into it), and the addresses
a host name resolves to when the connection is opened; only a checked address is ever connected to,
so a DNS answer that changes between a check and the connect (rebinding) cannot reach an internal
address.
"""

import asyncio
import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from yarl import URL

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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

EMBEDDING_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::ffff:0:0:0/96"))
"""Prefixes whose last 32 bits are the IPv4 address a translator connects to: NAT64's well-known
prefix (RFC 6052) and SIIT's (RFC 2765). Python counts both as global whatever they embed."""
NEVER_PUBLIC = (ipaddress.IPv6Network("64:ff9b:1::/48"), ipaddress.IPv6Network("::/96"))
"""An operator's own NAT64 prefix (RFC 8215) and the deprecated IPv4-compatible addresses: no
public endpoint has one, whatever Python's `is_global` says."""


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


class TargetRefused(Exception):
    """The URL may not be called (scheme, or a host resolving to a non-public address)."""


class TargetGuard:
    """Which URLs and addresses a sender may call: public HTTPS endpoints, and what its settings allow."""

    def __init__(
        self, *, allowed_hosts: Iterable[str] = (), allow_loopback: bool = False, allow_http: bool = False
    ) -> None:
        networks = {entry: network(entry) for entry in map(canonical_host, allowed_hosts)}
        self.allowed_networks = [found for found in networks.values() if found is not None]
        self.allowed_names = {entry for entry, found in networks.items() if found is None}
        self.allow_loopback = allow_loopback
        self.schemes = ("https", "http") if allow_http else ("https",)

    def check(self, url: str) -> None:
        """Refuses what no DNS answer can make callable; a host name's addresses are checked on connect."""
        try:
            parsed = URL(url)
        except (ValueError, TypeError) as exc:
            raise TargetRefused(f"not a valid URL: {exc}") from exc
        if parsed.scheme not in self.schemes or not parsed.raw_host:
            raise TargetRefused(f"not an absolute {' or '.join(self.schemes)} URL")
        if parsed.user is not None or parsed.password is not None:
            raise TargetRefused("URLs with credentials are not allowed")
        host = parsed.raw_host.lower()  # as the client resolves it (IDNA-encoded)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            if ":" in host or host.replace(".", "").isdigit():
                # 127.1, 2130706433, fe80::1%25eth0: clients take these for addresses, unresolved.
                raise TargetRefused(f"{host} is not a canonical IP address") from None
            return
        self.check_addresses(host, [address])

    def check_addresses(self, host: str, addresses: list[IPAddress]) -> None:
        """Refuses `host` unless it is an allowed name or every address it resolved to is permitted."""
        if self.allowed_names and host_name(host) in self.allowed_names:
            return
        for address in addresses:
            if not self._permitted(address):
                raise TargetRefused(f"{host} resolves to the non-public address {address}")

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to `host` at (getaddrinfo), once checked: a client that connects
        to one of these, not to the name, goes where the check looked."""
        try:
            found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise TargetRefused(f"{host} does not resolve: {exc}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in found]
        self.check_addresses(host, addresses)
        return addresses

    def _allowed(self, address: IPAddress) -> bool:
        return any(address in allowed for allowed in self.allowed_networks)

    def _permitted(self, address: IPAddress) -> bool:
        if self._allowed(address):
            return True
        reached = _reached(address)
        if reached is None:
            return False
        if self._allowed(reached):
            return True
        if reached.is_loopback:
            return self.allow_loopback
        return reached.is_global and not reached.is_multicast


def host_name(host: str) -> str:
    """A host name as a URL carries it to the resolver: lower case, IDNA, without the root's dot."""
    name = URL.build(scheme="https", host=host.strip().rstrip(".").lower()).raw_host
    if not name:
        raise ValueError(f"{host!r} is not a host name")
    return name


def network(entry: str) -> IPNetwork | None:
    """The addresses an allowed-hosts entry stands for (an address is a network of one); None for a
    host name."""
    try:
        return ipaddress.ip_network(entry.strip().strip("[]"), strict=False)
    except ValueError:
        return None


def canonical_host(entry: str) -> str:
    """An allowed-hosts entry in canonical notation, so that it matches a URL's host however either
    was written: a network (10.20.0.0/16, ::1/128) or a host name (`host_name`); ValueError for
    anything else."""
    found = network(entry)
    if found is not None:
        return str(found)
    if "/" in entry or ":" in entry:
        raise ValueError(f"{entry!r} is neither an IP address or network nor a host name")
    return host_name(entry)


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


def _reached(address: IPAddress) -> IPAddress | None:
    """The address a connection to `address` ends up at, as far as can be told (the IPv4 address
    inside a mapped, 6to4 or translated IPv6 address); None for one that is never public."""
    if isinstance(address, ipaddress.IPv4Address) or address.is_loopback:
        return address
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in prefix for prefix in EMBEDDING_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.is_site_local or any(address in prefix for prefix in NEVER_PUBLIC):
        return None
    return address

"""JWE compact (RSA-OAEP-256 + A256GCM) as FIT-Connect uses it, and the cheap header check
a router does on content it must pass through unread."""

import base64
import json
from dataclasses import dataclass
from typing import Any

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

KEY_ALGORITHM = "RSA-OAEP-256"
CONTENT_ENCRYPTION = "A256GCM"
ALGORITHMS = [KEY_ALGORITHM, CONTENT_ENCRYPTION]
MAX_HEADER_BYTES = 8 * 1024


class JweRegistry(jwe.JWERegistry):
    """joserfc's registry with FIT-Connect's sizes: attachments reach 500 MB, not 64 KB."""

    max_ciphertext_length = 700 * 1024 * 1024


REGISTRY = JweRegistry(algorithms=ALGORITHMS)


class InvalidJwe(ValueError):
    """The value is not a JWE compact string."""


class UnsupportedJweAlgorithm(InvalidJwe):
    """A JWE, but not RSA-OAEP-256 with A256GCM."""


@dataclass(frozen=True, slots=True)
class JweHeader:
    """The protected header of a JWE compact string."""

    alg: str
    enc: str
    kid: str | None
    cty: str | None
    raw: dict[str, Any]


def encryption_key(jwk: dict[str, Any]) -> RSAKey:
    """An RSA public (or private) key from its JWK, ready for JWE.

    FIT-Connect keys declare `key_ops: ["wrapKey"]` (RFC 7517), which is right for RSA-OAEP, but
    joserfc checks for "encrypt"; the algorithm is pinned to RSA-OAEP-256 anyway, so it is dropped.
    """
    return RSAKey.import_key({name: value for name, value in jwk.items() if name != "key_ops"})


def encrypt(plaintext: bytes, key: RSAKey, *, content_type: str, kid: str | None = None) -> str:
    """Encrypt for the holder of `key`'s private half; `cty` names what the plaintext is."""
    header = {
        "alg": KEY_ALGORITHM,
        "enc": CONTENT_ENCRYPTION,
        "kid": kid or key.kid,
        "cty": content_type,
    }
    return jwe.encrypt_compact(header, plaintext, key, registry=REGISTRY)


def decrypt(token: str | bytes, private_key: RSAKey) -> tuple[JweHeader, bytes]:
    """Decrypt a JWE compact string; raises InvalidJwe for anything else."""
    header = read_header(token)
    try:
        decrypted = jwe.decrypt_compact(token, private_key, registry=REGISTRY)
    except (JoseError, ValueError) as exc:
        raise InvalidJwe(f"cannot decrypt: {exc}") from exc
    return header, decrypted.plaintext or b""


def _b64decode(segment: bytes) -> bytes:
    return base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))


def parse_header(segment: bytes) -> JweHeader:
    """Decode and check a protected header segment: RSA-OAEP-256 with A256GCM only."""
    if len(segment) > MAX_HEADER_BYTES:
        raise InvalidJwe("the protected header is too large")
    try:
        raw = json.loads(_b64decode(segment))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidJwe("the protected header is not base64url-encoded JSON") from exc
    if not isinstance(raw, dict):
        raise InvalidJwe("the protected header is not a JSON object")
    if raw.get("alg") != KEY_ALGORITHM or raw.get("enc") != CONTENT_ENCRYPTION:
        raise UnsupportedJweAlgorithm(f"the JWE must use alg {KEY_ALGORITHM} and enc {CONTENT_ENCRYPTION}")
    kid, cty = raw.get("kid"), raw.get("cty")
    return JweHeader(
        alg=raw["alg"],
        enc=raw["enc"],
        kid=kid if isinstance(kid, str) else None,
        cty=cty if isinstance(cty, str) else None,
        raw=raw,
    )


def read_header(token: str | bytes) -> JweHeader:
    """Check that `token` is a five-part JWE compact string and return its protected header.

    The content itself stays unread: the router never holds the private key.
    """
    value = token.encode() if isinstance(token, str) else token
    parts = value.strip().split(b".")
    if len(parts) != 5:
        raise InvalidJwe("a JWE compact string has five base64url parts")
    if not parts[0] or not parts[2] or not parts[4]:
        raise InvalidJwe("the JWE lacks its header, initialisation vector or tag")
    return parse_header(parts[0])

"""Destination keys: public RSA JWKs of at least 4096 bits.

One for RSA-OAEP-256 key wrapping (senders encrypt for it), optionally one for PS512 signatures
(the authority signs its accept/reject Security Event Tokens with it; submission verifies them).
A key may carry its certificate chain (`x5c`, RFC 7517 §4.7), as FIT-Connect destinations' keys do
(Verwaltungs-PKI): it is published unchanged, since a sender's client checks the chain against its
own trust anchors before it encrypts. Here it is checked only to belong to the key and be valid now.
"""

import base64
import binascii
import hashlib
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from joserfc.util import urlsafe_b64encode

from ozg_zufi.errors import InvalidEncryptionKey, InvalidSigningKey

MIN_BITS = 4096
KEY_ALGORITHM = "RSA-OAEP-256"
SIGNING_ALGORITHM = "PS512"
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})
CERTIFICATE_MEMBERS = frozenset({"x5c", "x5t", "x5t#S256", "x5u"})
MAX_CHAIN_LENGTH = 10
MAX_CERTIFICATE_CHARS = 16_384


def _public_rsa_key(
    jwk: dict[str, Any], algorithm: str, error: type[InvalidEncryptionKey | InvalidSigningKey]
) -> RSAKey:
    """The key of a public RSA JWK with a kid and at least MIN_BITS, meant for `algorithm`."""
    if jwk.get("kty") != "RSA":
        raise error("The key must be an RSA JWK (kty RSA).")
    if PRIVATE_MEMBERS & jwk.keys():
        raise error("Send the public key only: never the private members.")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise error("The key needs a kid.")
    if jwk.get("alg", algorithm) != algorithm:
        raise error(f"The key's alg must be {algorithm}.")
    try:
        # The certificate members are checked on their own (`_certificate_chain`), with clearer words.
        key = RSAKey.import_key(
            {name: value for name, value in jwk.items() if name not in CERTIFICATE_MEMBERS}
        )
    except (JoseError, ValueError, TypeError) as exc:
        raise error("The key is not a valid RSA JWK.") from exc
    bits = key.raw_value.key_size
    if bits < MIN_BITS:
        raise error(f"The key has {bits} bits; at least {MIN_BITS} are required.")
    return key


def _certificate_chain(
    jwk: dict[str, Any], key: RSAKey, error: type[InvalidEncryptionKey | InvalidSigningKey]
) -> dict[str, Any]:
    """The key's `x5c` (and `x5t`, `x5t#S256` where given) once checked against the key: the first
    certificate must certify this very key, be valid now, and match the thumbprints."""
    if "x5u" in jwk:
        raise error("Give the certificate chain itself (x5c), not a URL to fetch it from (x5u).")
    chain = jwk.get("x5c")
    if chain is None:
        if "x5t" in jwk or "x5t#S256" in jwk:
            raise error("A certificate thumbprint (x5t, x5t#S256) needs the certificate chain (x5c).")
        return {}
    if (
        not isinstance(chain, list)
        or not 1 <= len(chain) <= MAX_CHAIN_LENGTH
        or not all(isinstance(c, str) and 0 < len(c) <= MAX_CERTIFICATE_CHARS for c in chain)
    ):
        raise error(
            f"x5c must be a list of 1 to {MAX_CHAIN_LENGTH} certificates, each base64 DER "
            f"of at most {MAX_CERTIFICATE_CHARS} characters."
        )
    try:
        ders = [base64.b64decode(c, validate=True) for c in chain]
        certificates = [x509.load_der_x509_certificate(der) for der in ders]
    except (binascii.Error, ValueError) as exc:
        raise error(
            "x5c holds something that is not a base64 (not base64url) DER X.509 certificate."
        ) from exc
    leaf = certificates[0]
    certified = leaf.public_key()
    if (
        not isinstance(certified, RSAPublicKey)
        or certified.public_numbers() != key.public_key.public_numbers()
    ):
        raise error("The first certificate in x5c is not for this key (RFC 7517 §4.7).")
    now = datetime.now(UTC)
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise error(
            f"The key's certificate is valid from {leaf.not_valid_before_utc:%Y-%m-%d} "
            f"to {leaf.not_valid_after_utc:%Y-%m-%d}, not now."
        )
    thumbprints = {
        "x5t": hashlib.sha1(ders[0], usedforsecurity=False).digest(),
        "x5t#S256": hashlib.sha256(ders[0]).digest(),
    }
    published: dict[str, Any] = {"x5c": list(chain)}
    for member, digest in thumbprints.items():
        if member in jwk:
            if jwk[member] != urlsafe_b64encode(digest).decode():
                raise error(f"{member} is not the thumbprint of the first certificate in x5c.")
            published[member] = jwk[member]
    return published


def public_encryption_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """Check a destination key and answer it in its canonical public form."""
    key = _public_rsa_key(jwk, KEY_ALGORITHM, InvalidEncryptionKey)
    return encryption_jwk(key) | _certificate_chain(jwk, key, InvalidEncryptionKey)


def public_signing_jwk(jwk: dict[str, Any], encryption_kid: str) -> dict[str, Any]:
    """Check a destination's signature verification key; answer it as FIT-Connect publishes it."""
    key = _public_rsa_key(jwk, SIGNING_ALGORITHM, InvalidSigningKey)
    published = _published(key, alg=SIGNING_ALGORITHM, use="sig", key_ops=["verify"])
    published |= _certificate_chain(jwk, key, InvalidSigningKey)
    if published["kid"] == encryption_kid:
        raise InvalidSigningKey("The signing key needs a kid of its own, not the encryption key's.")
    return published


def encryption_jwk(key: RSAKey) -> dict[str, Any]:
    """The public JWK of `key` as destinations publish it."""
    return _published(key, alg=KEY_ALGORITHM, use="enc", key_ops=["wrapKey"])


def _published(key: RSAKey, *, alg: str, use: str, key_ops: list[str]) -> dict[str, Any]:
    public = key.as_dict(private=False)
    return {
        "kty": "RSA",
        "kid": public["kid"],
        "n": public["n"],
        "e": public["e"],
        "alg": alg,
        "use": use,
        "key_ops": key_ops,
    }

"""Destination keys: public RSA JWKs of at least 4096 bits.

One for RSA-OAEP-256 key wrapping (senders encrypt for it), optionally one for PS512 signatures
(the authority signs its accept/reject Security Event Tokens with it; submission verifies them).
"""

from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from ozg_zufi.errors import InvalidEncryptionKey, InvalidSigningKey

MIN_BITS = 4096
KEY_ALGORITHM = "RSA-OAEP-256"
SIGNING_ALGORITHM = "PS512"
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


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
        key = RSAKey.import_key(jwk)
    except (JoseError, ValueError, TypeError) as exc:
        raise error("The key is not a valid RSA JWK.") from exc
    bits = key.raw_value.key_size
    if bits < MIN_BITS:
        raise error(f"The key has {bits} bits; at least {MIN_BITS} are required.")
    return key


def public_encryption_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """Check a destination key and answer it in its canonical public form."""
    return encryption_jwk(_public_rsa_key(jwk, KEY_ALGORITHM, InvalidEncryptionKey))


def public_signing_jwk(jwk: dict[str, Any], encryption_kid: str) -> dict[str, Any]:
    """Check a destination's signature verification key; answer it as FIT-Connect publishes it."""
    key = _public_rsa_key(jwk, SIGNING_ALGORITHM, InvalidSigningKey)
    published = _published(key, alg=SIGNING_ALGORITHM, use="sig", key_ops=["verify"])
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

"""Destination encryption keys: public RSA JWKs of at least 4096 bits, for RSA-OAEP-256 key wrapping."""

from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from ozg_zufi.errors import InvalidEncryptionKey

MIN_BITS = 4096
KEY_ALGORITHM = "RSA-OAEP-256"
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth"})


def public_encryption_jwk(jwk: dict[str, Any]) -> dict[str, Any]:
    """Check a destination key and answer it in its canonical public form."""
    if jwk.get("kty") != "RSA":
        raise InvalidEncryptionKey("The key must be an RSA JWK (kty RSA).")
    if PRIVATE_MEMBERS & jwk.keys():
        raise InvalidEncryptionKey("Send the public key only: never the private members.")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidEncryptionKey("The key needs a kid.")
    if jwk.get("alg", KEY_ALGORITHM) != KEY_ALGORITHM:
        raise InvalidEncryptionKey(f"The key's alg must be {KEY_ALGORITHM}.")
    try:
        key = RSAKey.import_key(jwk)
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidEncryptionKey("The key is not a valid RSA JWK.") from exc
    bits = key.raw_value.key_size
    if bits < MIN_BITS:
        raise InvalidEncryptionKey(f"The key has {bits} bits; at least {MIN_BITS} are required.")
    return encryption_jwk(key)


def encryption_jwk(key: RSAKey) -> dict[str, Any]:
    """The public JWK of `key` as destinations publish it."""
    public = key.as_dict(private=False)
    return {
        "kty": "RSA",
        "kid": public["kid"],
        "n": public["n"],
        "e": public["e"],
        "alg": KEY_ALGORITHM,
        "use": "enc",
        "key_ops": ["wrapKey"],
    }

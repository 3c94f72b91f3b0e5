"""X.509 certificates from a PKI of the test's own, for keys that carry their chain (`x5c`)."""

import base64
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID


def certificate(
    subject: str,
    key: CertificatePublicKeyTypes,
    *,
    issuer: str,
    signer: ec.EllipticCurvePrivateKey,
    valid_from: datetime | None = None,
    days: int = 30,
) -> x509.Certificate:
    """A certificate for `key`, named `subject`, issued and signed by `issuer` (a CA certificate
    where the two names are the same); valid `days` from `valid_from`, by default five minutes ago."""
    start = valid_from or datetime.now(UTC) - timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=subject == issuer, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def root(name: str, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """The self-signed certificate of the PKI's root `name`."""
    return certificate(name, key.public_key(), issuer=name, signer=key)


def x5c(*chain: x509.Certificate) -> list[str]:
    """A JWK's certificate chain: standard base64 (not base64url) DER, leaf first (RFC 7517 §4.7)."""
    return [base64.b64encode(c.public_bytes(Encoding.DER)).decode("ascii") for c in chain]

"""A FIT-Connect sender and subscriber written from the standard alone, against the running suite.

The client below knows only what `docs/standards.md` §1 and the published FIT-Connect documents say:
JWE compact (RFC 7516, RSA-OAEP-256 with A256GCM) and PS512 signatures (RFC 7515/7518) made with
`cryptography`, OAuth2 client credentials and the Submission API over plain HTTP. It imports none of
the suite's own FIT-Connect code, so that it checks that code rather than agreeing with it.
"""

import asyncio
import base64
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jsonschema import Draft202012Validator, FormatChecker

from ozg_testing.pki import certificate, root, x5c
from ozg_testing.standards import FIT_CONNECT
from ozg_testing.suite_harness import Suite

HUND_ANMELDEN = "99110007000000"
"""A service without a fee, so nothing waits for a payment."""
KIEL = "010020000000"
EVENTS = "https://schema.fitko.de/fit-connect/events/"
SET_PAYLOAD_SCHEMA = re.compile(
    r"^https://schema\.fitko\.de/fit-connect/set-payload/\d+\.\d+\.\d+/set-payload\.schema\.json$"
)
OAEP = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)
"""PS512: RSASSA-PSS with SHA-512, MGF1 with SHA-512 and a salt as long as the hash (RFC 7518 §3.5)."""
JOSE = {"Content-Type": "application/jose"}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key(jwk: dict[str, Any]) -> rsa.RSAPublicKey:
    """An RSA public key from its JWK members `n` and `e`."""
    numbers = rsa.RSAPublicNumbers(
        int.from_bytes(unb64(jwk["e"]), "big"), int.from_bytes(unb64(jwk["n"]), "big")
    )
    return numbers.public_key()


def private_key(jwk: dict[str, Any]) -> rsa.RSAPrivateKey:
    """An RSA private key from its JWK members (RFC 7518 §6.3.2)."""
    n, e, d, p, q, dp, dq, qi = (
        int.from_bytes(unb64(jwk[member]), "big") for member in ("n", "e", "d", "p", "q", "dp", "dq", "qi")
    )
    return rsa.RSAPrivateNumbers(p, q, d, dp, dq, qi, rsa.RSAPublicNumbers(e, n)).private_key()


def public_jwk(key: rsa.RSAPrivateKey, **members: str) -> dict[str, Any]:
    numbers = key.public_key().public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    return {"kty": "RSA", "n": b64(n), "e": b64(e), **members}


def trusted(jwk: dict[str, Any], anchor: x509.Certificate) -> None:
    """What a sender's client checks before it encrypts: the key's first certificate is for this
    key, valid now, and issued by the PKI the sender trusts."""
    leaf = x509.load_der_x509_certificate(base64.b64decode(jwk["x5c"][0]))
    certified = leaf.public_key()
    assert isinstance(certified, rsa.RSAPublicKey)
    assert certified.public_numbers() == public_key(jwk).public_numbers()
    assert leaf.not_valid_before_utc <= datetime.now(UTC) <= leaf.not_valid_after_utc
    leaf.verify_directly_issued_by(anchor)


def encrypt(plaintext: bytes, jwk: dict[str, Any], cty: str) -> str:
    """A JWE compact string: a fresh content key wrapped with RSA-OAEP-256, the content in A256GCM."""
    protected = b64(
        json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": jwk["kid"], "cty": cty}).encode()
    )
    content_key, iv = os.urandom(32), os.urandom(12)
    wrapped = public_key(jwk).encrypt(content_key, OAEP)
    sealed = AESGCM(content_key).encrypt(iv, plaintext, protected.encode("ascii"))
    return ".".join([protected, b64(wrapped), b64(iv), b64(sealed[:-16]), b64(sealed[-16:])])


def decrypt(token: str, key: rsa.RSAPrivateKey) -> tuple[dict[str, Any], bytes]:
    """The protected header and plaintext of a JWE compact string made as `encrypt` makes it."""
    protected, wrapped, iv, ciphertext, tag = token.strip().split(".")
    header = json.loads(unb64(protected))
    assert (header["alg"], header["enc"]) == ("RSA-OAEP-256", "A256GCM")
    content_key = key.decrypt(unb64(wrapped), OAEP)
    plaintext = AESGCM(content_key).decrypt(
        unb64(iv), unb64(ciphertext) + unb64(tag), protected.encode("ascii")
    )
    return header, plaintext


def sign(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    """A Security Event Token (compact JWS, PS512)."""
    header = {"typ": "secevent+jwt", "alg": "PS512", "kid": kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode("ascii"), PSS, hashes.SHA512())
    return f"{signing_input}.{b64(signature)}"


def header_of(token: str) -> dict[str, Any]:
    return dict(json.loads(unb64(token.split(".")[0])))


def verified(token: str, jwk: dict[str, Any]) -> dict[str, Any]:
    """The claims of a SET whose PS512 signature `jwk` verifies (raises InvalidSignature otherwise)."""
    header = header_of(token)
    assert (header["typ"], header["alg"], header["kid"]) == ("secevent+jwt", "PS512", jwk["kid"])
    protected, payload, signature = token.split(".")
    public_key(jwk).verify(unb64(signature), f"{protected}.{payload}".encode("ascii"), PSS, hashes.SHA512())
    claims: dict[str, Any] = json.loads(unb64(payload))
    return claims


def event_of(claims: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The one event of a SET payload: its name and its details."""
    [(uri, details)] = claims["events"].items()
    assert uri.startswith(EVENTS), uri
    return uri.removeprefix(EVENTS), details


def tag_of(jwe: str) -> str:
    """A JWE's authentication tag: its fifth segment."""
    return jwe.strip().split(".")[4]


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def sha512(content: bytes) -> dict[str, str]:
    return {"type": "sha512", "content": hashlib.sha512(content).hexdigest()}


@dataclass(frozen=True)
class Client:
    """An OAuth2 client of the submission service (client_credentials, client_secret_post)."""

    client_id: str
    client_secret: str

    async def headers(self, http: httpx.AsyncClient, base: str) -> dict[str, str]:
        answer = await http.post(
            f"{base}/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
        )
        assert answer.status_code == 200, answer.text
        token = answer.json()
        assert token["token_type"] == "Bearer"
        return {"Authorization": f"Bearer {token['access_token']}"}


@dataclass(frozen=True)
class Destination:
    """A FIT-Connect destination (Zustellpunkt) of the test: its private keys and its subscriber."""

    destination_id: str
    encryption_key: rsa.RSAPrivateKey
    signing_key: rsa.RSAPrivateKey
    signing_kid: str
    subscriber: Client
    trust_anchor: x509.Certificate
    """The root of the test's Verwaltungs-PKI, which certified the destination's encryption key."""


async def eventually(what: str, probe: Callable[[], Awaitable[Any]], within: float = 30) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if found := await probe():
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {within:.0f} s")


@pytest.fixture(scope="module")
async def destination(suite: Suite, http: httpx.AsyncClient) -> Destination:
    """A FIT-Connect destination as an operator registers it: an authority in Kiel whose Zustellkanal
    is FIT-Connect, with a signing key of its own and a subscriber client speaking for it.

    Only the signing key must be the destination's alone (nobody may sign in its name); it encrypts
    with the run's demo destination key, as tests/e2e/test_ops_cli.py does, because a new 4096-bit
    key costs seconds of the test's budget on this machine. The test's own PKI (an EC root, quick
    to make) certifies that key, as the Verwaltungs-PKI certifies FIT-Connect destinations' keys.
    """
    began = time.monotonic()
    signing_key = await asyncio.to_thread(rsa.generate_private_key, 65537, 4096)
    keyed = time.monotonic() - began
    demo_key = json.loads((suite.run_dir / "demo-keys" / "destination-private.jwk.json").read_text())
    pki = ec.generate_private_key(ec.SECP256R1())
    anchor = root("Test-PKI der Verwaltung", pki)
    encryption_jwk = {name: demo_key[name] for name in ("kty", "kid", "n", "e")}
    leaf = certificate(
        "Ordnungsamt Kiel", public_key(encryption_jwk), issuer="Test-PKI der Verwaltung", signer=pki
    )
    destination_id = str(uuid.uuid4())
    signing_kid = f"sig-{destination_id}"
    admin = {"Authorization": f"Bearer {await suite.token(http, 'admin')}"}
    authority = {
        "name": "Ordnungsamt Kiel (FIT-Connect E2E)",
        "areaId": KIEL,
        "destination": {
            "id": destination_id,
            "channelType": "fitconnect",
            "encryptionKey": encryption_jwk | {"x5c": x5c(leaf, anchor)},
            "signingKey": public_jwk(signing_key, kid=signing_kid, alg="PS512"),
            "services": [HUND_ANMELDEN],
        },
    }
    created = await http.post(f"{suite.url('zufi')}/v1/admin/authorities", json=authority, headers=admin)
    assert created.status_code == 201, created.text
    registered = await http.post(
        f"{suite.url('submission')}/v1/admin/clients",
        json={"scopes": [f"destination:{destination_id}"], "description": "FIT-Connect E2E subscriber"},
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    subscriber = Client(registered.json()["clientId"], registered.json()["clientSecret"])

    async def published() -> bool:
        # submission learns of the destination from zufi's events; its keys need no token.
        url = f"{suite.url('submission')}/v1/destinations/{destination_id}/keys/{signing_kid}"
        return (await http.get(url)).status_code == 200

    await eventually("submission to publish the new destination", published)
    took = time.monotonic() - began
    print(f"\nFIT-Connect destination registered in {took:.1f} s (its signing key took {keyed:.1f} s)")
    return Destination(destination_id, private_key(demo_key), signing_key, signing_kid, subscriber, anchor)


async def test_a_fit_connect_sender_and_subscriber_written_from_the_standard(
    suite: Suite, http: httpx.AsyncClient, destination: Destination
) -> None:
    began = time.monotonic()
    base = suite.url("submission")
    destination_id = destination.destination_id
    sending = suite.client("send")
    sender = await Client(sending["client_id"], sending["client_secret"]).headers(http, base)

    # The sender looks the destination up: its service, its key, the metadata version it takes.
    described = await http.get(f"{base}/v1/destinations/{destination_id}", headers=sender)
    assert described.status_code == 200, described.text
    about = described.json()
    assert about["status"] == "active"
    identifier = f"urn:de:fim:leika:leistung:{HUND_ANMELDEN}"
    [service] = [s for s in about["services"] if s["identifier"] == identifier]
    form_schema = next(s for s in service["submissionSchemas"] if s["mimeType"] == "application/json")
    key = (await http.get(f"{base}/v1/destinations/{destination_id}/keys/{about['encryptionKid']}")).json()
    assert (key["kty"], key["alg"], key["key_ops"], key["kid"]) == (
        "RSA",
        "RSA-OAEP-256",
        ["wrapKey"],
        about["encryptionKid"],
    )
    assert "d" not in key
    assert public_key(key).key_size >= 4096
    trusted(key, destination.trust_anchor)
    newest = max(about["metadataVersions"], key=version)
    schema = json.loads((FIT_CONNECT / "metadata" / newest / "metadata.schema.json").read_text())
    metadata_validator = Draft202012Validator(schema, format_checker=FormatChecker())

    attachment_id = str(uuid.uuid4())
    announced = await http.post(
        f"{base}/v1/submissions",
        json={
            "destinationId": destination_id,
            "announcedAttachments": [attachment_id],
            "serviceType": {"name": "Hund anmelden", "identifier": identifier},
        },
        headers=sender,
    )
    assert announced.status_code == 201, announced.text
    reference = announced.json()
    assert set(reference) == {"destinationId", "submissionId", "caseId"}
    submission_id, case_id = reference["submissionId"], reference["caseId"]

    data = json.dumps({"hundName": "Bello", "rasse": "Mischling", "haltungSeit": "2026-11-01"}).encode()
    attachment = b"%PDF-1.7\n% Impfnachweis (E2E)\n%%EOF\n"
    metadata: dict[str, Any] = {
        "contentStructure": {
            "data": {
                "hash": sha512(data),
                "submissionSchema": {"schemaUri": form_schema["schemaUri"], "mimeType": "application/json"},
            },
            "attachments": [
                {
                    "attachmentId": attachment_id,
                    "hash": sha512(attachment),
                    "purpose": "attachment",
                    "mimeType": "application/pdf",
                    "filename": "impfnachweis.pdf",
                }
            ],
        }
    }
    if "$schema" in schema["properties"]:
        metadata["$schema"] = schema["$id"]
    metadata_validator.validate(metadata)

    encrypted_attachment = encrypt(attachment, key, "application/pdf")
    uploaded = await http.put(
        f"{base}/v1/submissions/{submission_id}/attachments/{attachment_id}",
        content=encrypted_attachment,
        headers={**sender, **JOSE},
    )
    assert uploaded.status_code == 204, uploaded.text
    submitted = await http.put(
        f"{base}/v1/submissions/{submission_id}",
        json={
            "encryptedMetadata": encrypt(json.dumps(metadata).encode(), key, "application/json"),
            "encryptedData": encrypt(data, key, "application/json"),
        },
        headers=sender,
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json() == reference

    # The subscriber lists, fetches and decrypts what came for its destination.
    subscriber = await destination.subscriber.headers(http, base)
    listing = await http.get(
        f"{base}/v1/submissions", params={"destinationId": destination_id}, headers=subscriber
    )
    assert listing.status_code == 200, listing.text
    assert reference in listing.json()["submissions"]
    fetched_answer = await http.get(f"{base}/v1/submissions/{submission_id}", headers=subscriber)
    assert fetched_answer.status_code == 200, fetched_answer.text
    fetched = fetched_answer.json()
    assert (fetched["serviceType"]["identifier"], fetched["attachments"]) == (identifier, [attachment_id])
    header, plain_metadata = decrypt(fetched["encryptedMetadata"], destination.encryption_key)
    assert (header["kid"], header["cty"]) == (about["encryptionKid"], "application/json")
    received = json.loads(plain_metadata)
    metadata_validator.validate(received)
    _, received_data = decrypt(fetched["encryptedData"], destination.encryption_key)
    assert received["contentStructure"]["data"]["hash"] == sha512(received_data)
    attachment_answer = await http.get(
        f"{base}/v1/submissions/{submission_id}/attachments/{attachment_id}", headers=subscriber
    )
    assert attachment_answer.status_code == 200, attachment_answer.text
    assert attachment_answer.headers["content-type"] == "application/jose"
    _, received_attachment = decrypt(attachment_answer.text, destination.encryption_key)
    [described_attachment] = received["contentStructure"]["attachments"]
    assert described_attachment["hash"] == sha512(received_attachment)
    tags = {
        "metadata": tag_of(fetched["encryptedMetadata"]),
        "data": tag_of(fetched["encryptedData"]),
        "attachments": {attachment_id: tag_of(attachment_answer.text)},
    }

    # The case's event log so far is the submission service's, signed with a key of its JWKS.
    log = (await http.get(f"{base}/v1/cases/{case_id}/events", headers=subscriber)).json()["eventLog"]
    jwks = {jwk["kid"]: jwk for jwk in (await http.get(f"{base}/.well-known/jwks.json")).json()["keys"]}
    written = [verified(token, jwks[header_of(token)["kid"]]) for token in log]
    for claims in written:
        assert SET_PAYLOAD_SCHEMA.match(claims["$schema"]), claims
        assert (claims["sub"], claims["txn"]) == (f"submission:{submission_id}", f"case:{case_id}")
        assert claims["iss"] != destination_id
        assert str(uuid.UUID(claims["jti"])) == claims["jti"].lower()
        assert isinstance(claims["iat"], int)
    events = dict(event_of(claims) for claims in written)
    assert [event_of(claims)[0] for claims in written[:2]] == ["create-submission", "submit-submission"]
    assert events["submit-submission"]["authenticationTags"] == tags

    # It accepts, signed with its own key and repeating the tags it saw.
    accept = sign(
        {
            "$schema": "https://schema.fitko.de/fit-connect/set-payload/1.2.2/set-payload.schema.json",
            "iss": destination_id,
            "iat": int(time.time()),
            "jti": str(uuid.uuid4()),
            "sub": f"submission:{submission_id}",
            "txn": f"case:{case_id}",
            "events": {f"{EVENTS}accept-submission": {"authenticationTags": tags}},
        },
        destination.signing_key,
        destination.signing_kid,
    )
    posted = await http.post(
        f"{base}/v1/cases/{case_id}/events", content=accept, headers={**subscriber, **JOSE}
    )
    assert posted.status_code == 204, posted.text

    # The sender sees the destination's own accept, verified with the key the destination published.
    seen = await http.get(f"{base}/v1/submissions/{submission_id}/events", headers=sender)
    assert seen.status_code == 200, seen.text
    last = seen.json()["eventLog"][-1]
    kid = header_of(last)["kid"]
    published = (await http.get(f"{base}/v1/destinations/{destination_id}/keys/{kid}")).json()
    assert published["alg"] == "PS512"
    decision = verified(last, published)
    assert decision["iss"] == destination_id
    assert event_of(decision) == ("accept-submission", {"authenticationTags": tags})
    status = await http.get(f"{base}/v1/applications/{submission_id}", headers=sender)
    assert status.json()["status"] == "accepted"
    print(f"\nFIT-Connect sender, subscriber and sender again in {time.monotonic() - began:.1f} s")

"""FIT-Connect's SET rules (standards.md §1): the shared verifier against the testing environment's
real SETs and against each deviation from the rules."""

import json
import time
import uuid
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import KeySet, RSAKey

from ozg_common import security_events
from ozg_common.security_events import SET_PAYLOAD_SCHEMA, InvalidSecurityEvent, SignatureInvalid
from ozg_testing.standards import FIT_CONNECT

EXAMPLES = FIT_CONNECT / "examples" / "set"
EVENTS = "https://schema.fitko.de/fit-connect/events/"


def published_jwks() -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / "submission-api-testing.jwks.json").read_text()))


def test_the_verifier_accepts_the_testing_environments_set() -> None:
    token = (EXAMPLES / "create-submission.submission-api-testing.jwt").read_text()
    verified = security_events.verify(token, published_jwks())
    assert verified.event == "create-submission"
    assert verified.issuer == "https://submission-api-testing.fit-connect.fitko.dev"
    assert verified.subject_id == uuid.UUID("5e82c135-a3b7-4eb0-bd83-6df337331170")
    assert verified.case_id == uuid.UUID("c9f0db91-9355-451a-b2a5-7a9be10ce765")
    assert verified.header["kid"] == "32858147-f090-43a9-b2fd-d26ae5b41c03"


def test_the_verifier_rejects_the_set_whose_signature_fails() -> None:
    token = (EXAMPLES / "submit-submission.docs-example.jwt").read_text()
    with pytest.raises(SignatureInvalid):
        security_events.verify(token, published_jwks())
    with pytest.raises(SignatureInvalid):
        security_events.verify_signature(token, published_jwks()["keys"][0])


@pytest.fixture(scope="module")
def signer() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "rules"}, private=True)


def signed(
    key: RSAKey, header: dict[str, Any] | None = None, schema: str | None = SET_PAYLOAD_SCHEMA, **claims: Any
) -> str:
    """A SET following the rules, but for the changes given (`schema` and claims set to None are left
    out)."""
    payload = {
        "$schema": schema,
        "iss": "https://submission.example",
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "sub": f"submission:{uuid.uuid4()}",
        "txn": f"case:{uuid.uuid4()}",
        "events": {EVENTS + "create-submission": {}},
    } | claims
    protected = {"typ": "secevent+jwt", "alg": "PS512", "kid": key.kid} | (header or {})
    body = json.dumps({name: value for name, value in payload.items() if value is not None}).encode()
    return jws.serialize_compact(protected, body, key, algorithms=[protected["alg"]])


def test_the_rules_refuse_each_deviation(signer: RSAKey) -> None:
    keys = KeySet([signer])
    assert security_events.verify(signed(signer), keys).event == "create-submission"
    assert security_events.verify(signed(signer, sub=f"reply:{uuid.uuid4()}"), keys).subject_kind == "reply"
    tags = {"metadata": "tag", "data": "tag", "attachments": {str(uuid.uuid4()): "tag"}}
    submit = signed(signer, events={EVENTS + "submit-submission": {"authenticationTags": tags}})
    assert security_events.verify(submit, keys).details["authenticationTags"] == tags
    refused = {
        "no $schema": signed(signer, **{"$schema": None}),
        "another payload schema": signed(
            signer,
            **{"$schema": "https://schema.fitko.de/fit-connect/set-payload/2.0.0/set-payload.schema.json"},
        ),
        "alg PS256": signed(signer, header={"alg": "PS256"}),
        "alg RS512": signed(signer, header={"alg": "RS512"}),
        "typ JWT": signed(signer, header={"typ": "JWT"}),
        "no iss": signed(signer, iss=None),
        "no iat": signed(signer, iat=None),
        "jti not a UUID": signed(signer, jti="one"),
        "sub of nothing": signed(signer, sub="application:x"),
        "txn not a case": signed(signer, txn=f"submission:{uuid.uuid4()}"),
        "two events": signed(
            signer, events={EVENTS + "create-submission": {}, EVENTS + "submit-submission": {}}
        ),
        "no event": signed(signer, events={}),
        "an unknown event": signed(signer, events={EVENTS + "approve-submission": {}}),
        "submit without tags": signed(signer, events={EVENTS + "submit-submission": {}}),
        "accept with tags of another shape": signed(
            signer, events={EVENTS + "accept-submission": {"authenticationTags": {"metadata": 1}}}
        ),
    }
    for why, token in refused.items():
        try:
            security_events.verify(token, keys)
        except InvalidSecurityEvent:
            continue
        pytest.fail(f"accepted with {why}")

"""FIT-Connect's SET rules (standards.md §1): the shared verifier against the testing environment's
real SETs, the event log's SETs against the rules, and the authentication tags they carry."""

import json
import time
import uuid
from typing import Any

import pytest
from joserfc import jws
from joserfc.jwk import KeySet, RSAKey
from submission_testkit import Suite, nonconforming_sets, problem
from test_applications import application
from test_fit_connect import announce, tags_seen, upload

from ozg_common import security_events
from ozg_common.security_events import SET_PAYLOAD_SCHEMA, InvalidSecurityEvent, SignatureInvalid
from ozg_submission.settings import SubmissionSettings
from ozg_submission.state import SubmissionState
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


async def log_of(suite: Suite, case_id: str) -> list[security_events.SecurityEvent]:
    """The case's log, each SET verified with our published keys (or destination a's)."""
    jwks = (await suite.http.get("/.well-known/jwks.json")).json()
    trusted = KeySet.import_key_set(
        {
            "keys": [
                *jwks["keys"],
                suite.keys.public(suite.keys.subscriber),
                suite.keys.public(suite.keys.gateway),
            ]
        }
    )
    answer = await suite.http.get(f"/v1/cases/{case_id}/events", headers=await suite.auth("sender"))
    assert answer.status_code == 200, answer.text
    return [security_events.verify(token, trusted) for token in answer.json()["eventLog"]]


async def test_submit_submission_states_the_tags_of_the_jwes_as_sent(suite: Suite) -> None:
    contents = {str(uuid.uuid4()): b"first", str(uuid.uuid4()): b"second"}
    created = await announce(suite, list(contents))
    sid, cid = created["submissionId"], created["caseId"]
    sent = {aid: suite.encrypt_for_a(content, "text/plain") for aid, content in contents.items()}
    for aid, token in sent.items():
        assert (await upload(suite, sid, aid, token)).status_code == 204
    metadata, data = suite.encrypt_for_a(b"{}"), suite.encrypt_for_a(b'{"hund": {}}')
    answer = await suite.http.put(
        f"/v1/submissions/{sid}",
        json={"encryptedMetadata": metadata, "encryptedData": data},
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 200, answer.text

    log = await log_of(suite, cid)
    assert [event.event for event in log] == ["create-submission", "submit-submission"]
    assert all(event.claims["$schema"] == SET_PAYLOAD_SCHEMA for event in log)
    assert log[1].details["authenticationTags"] == {
        "metadata": metadata.split(".")[4],
        "data": data.split(".")[4],
        "attachments": {aid: token.split(".")[4] for aid, token in sent.items()},
    }
    assert log[1].details["authenticationTags"] == await tags_seen(suite, sid), "what the destination sees"


async def test_the_native_intake_states_the_tags_of_what_it_encrypted(suite: Suite) -> None:
    answer = await suite.http.post(
        "/v1/applications",
        data={"application": json.dumps(application())},
        files=[("attachments", ("nachweis.pdf", b"%PDF-1.7 fake", "application/pdf"))],
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 201, answer.text
    sid, cid = answer.json()["submissionId"], answer.json()["caseId"]
    submitted = (await log_of(suite, cid))[1]
    assert submitted.event == "submit-submission"
    tags = await tags_seen(suite, sid)
    assert len(tags["attachments"]) == 1
    assert submitted.details["authenticationTags"] == tags


async def test_the_case_log_is_paged(suite: Suite) -> None:
    answer = await suite.http.post("/v1/applications", json=application(), headers=await suite.auth("sender"))
    cid = answer.json()["caseId"]
    sender = await suite.auth("sender")
    whole = (await suite.http.get(f"/v1/cases/{cid}/events", headers=sender)).json()
    assert (whole["count"], whole["offset"], whole["totalCount"]) == (2, 0, 2)
    page = (await suite.http.get(f"/v1/cases/{cid}/events?offset=1&limit=1", headers=sender)).json()
    assert page == {"count": 1, "offset": 1, "totalCount": 2, "eventLog": whole["eventLog"][1:2]}
    beyond = (await suite.http.get(f"/v1/cases/{cid}/events?offset=2", headers=sender)).json()
    assert (beyond["count"], beyond["totalCount"], beyond["eventLog"]) == (0, 2, [])
    for query in ("limit=0", "limit=501", "offset=-1", "offset=2147483648"):
        problem(await suite.http.get(f"/v1/cases/{cid}/events?{query}", headers=sender), 400, "bad-request")


async def test_every_set_written_so_far_follows_the_rules(suite: Suite, settings: SubmissionSettings) -> None:
    await suite.http.post("/v1/applications", json=application(), headers=await suite.auth("sender"))
    state = SubmissionState.build(settings)
    trusted = KeySet.import_key_set(
        {
            "keys": [
                *state.jwks()["keys"],
                suite.keys.public(suite.keys.subscriber),
                suite.keys.public(suite.keys.gateway),
            ]
        }
    )
    assert await nonconforming_sets(state.events, settings.database_location, trusted) == []

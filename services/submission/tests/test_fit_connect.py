"""FIT-Connect Submission API v1 over HTTP: the sender and subscriber flows, every error path, scopes."""

import asyncio
import base64
import hashlib
import json
import time
import uuid
from typing import Any

from joserfc import jws, jwt
from joserfc.jwk import KeySet, RSAKey
from submission_testkit import FIT_CONNECT_PROBLEMS, LEIKA_DOG, Suite, problem

from ozg_common import jose
from ozg_common.security_events import SET_PAYLOAD_SCHEMA

SERVICE_TYPE = {"name": "Hundesteuer Anmeldung", "identifier": f"urn:de:fim:leika:leistung:{LEIKA_DOG}"}
EVENTS = "https://schema.fitko.de/fit-connect/events/"


async def announce(suite: Suite, attachments: list[str], destination: str | None = None) -> dict[str, Any]:
    answer = await suite.http.post(
        "/v1/submissions",
        json={
            "destinationId": destination or suite.dest_a,
            "announcedAttachments": attachments,
            "serviceType": SERVICE_TYPE,
        },
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def upload(suite: Suite, submission_id: str, attachment_id: str, token: str, **headers: str) -> Any:
    return await suite.http.put(
        f"/v1/submissions/{submission_id}/attachments/{attachment_id}",
        content=token.encode(),
        headers={"Content-Type": "application/jose", **headers, **await suite.auth("sender")},
    )


def metadata_for(data: bytes, attachments: dict[str, bytes]) -> bytes:
    return json.dumps(
        {
            "contentStructure": {
                "data": {
                    "hash": {"type": "sha512", "content": hashlib.sha512(data).hexdigest()},
                    "submissionSchema": {"schemaUri": "urn:test", "mimeType": "application/json"},
                },
                "attachments": [
                    {
                        "attachmentId": aid,
                        "hash": {"type": "sha512", "content": hashlib.sha512(c).hexdigest()},
                        "purpose": "attachment",
                        "mimeType": "text/plain",
                        "filename": f"{aid}.txt",
                    }
                    for aid, c in attachments.items()
                ],
            }
        }
    ).encode()


def decision(
    suite: Suite,
    event: str,
    submission_id: str,
    case_id: str,
    *,
    key: RSAKey | None = None,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    **details: Any,
) -> str:
    """A SET as destination a signs it (`key`, `header`, `claims`: what a forger would change; a
    claim set to None is left out)."""
    payload = {
        "$schema": SET_PAYLOAD_SCHEMA,
        "iss": suite.dest_a,
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "sub": f"submission:{submission_id}",
        "txn": f"case:{case_id}",
        "events": {EVENTS + event: details},
    } | (claims or {})
    signer = key or suite.keys.subscriber
    protected = {"alg": "PS512", "typ": "secevent+jwt", "kid": signer.kid} | (header or {})
    body = json.dumps({name: value for name, value in payload.items() if value is not None}).encode()
    return jws.serialize_compact(protected, body, signer, algorithms=["PS512"])


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a compact JWS, unverified."""
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


async def tags_seen(suite: Suite, submission_id: str) -> dict[str, Any]:
    """The authenticationTags destination a repeats in its accept: from the JWEs as it fetched them."""
    subscriber = await suite.auth("subscriber-a")
    fetched = (await suite.http.get(f"/v1/submissions/{submission_id}", headers=subscriber)).json()
    tags: dict[str, Any] = {"metadata": fetched["encryptedMetadata"].rsplit(".", 1)[1]}
    if fetched.get("encryptedData"):
        tags["data"] = fetched["encryptedData"].rsplit(".", 1)[1]
    attachments = {}
    for attachment_id in fetched["attachments"]:
        url = f"/v1/submissions/{submission_id}/attachments/{attachment_id}"
        attachments[attachment_id] = (await suite.http.get(url, headers=subscriber)).text.rsplit(".", 1)[1]
    return tags | {"attachments": attachments}


async def accept_of(suite: Suite, submission_id: str, case_id: str, **changes: Any) -> str:
    """Destination a's accept, repeating the tags it saw."""
    tags = await tags_seen(suite, submission_id)
    return decision(suite, "accept-submission", submission_id, case_id, authenticationTags=tags, **changes)


def unsigned(token: str, alg: str = "none") -> str:
    """The token's claims under an `alg: none` header, without a signature."""
    header = {"alg": alg, "typ": "secevent+jwt"}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return f"{encoded}.{token.split('.')[1]}."


async def submitted(suite: Suite, destination: str | None = None) -> tuple[str, str]:
    """A FIT-Connect submission, forwarded to its destination: (submissionId, caseId)."""
    created = await announce(suite, [], destination)
    # Every destination but a holds keys.dest_b.
    key = suite.keys.dest_a if destination in (None, suite.dest_a) else suite.keys.dest_b
    empty = jose.encrypt(b"{}", key, content_type="application/json")
    answer = await suite.http.put(
        f"/v1/submissions/{created['submissionId']}",
        json={"encryptedMetadata": empty, "encryptedData": empty},
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 200, answer.text
    return created["submissionId"], created["caseId"]


async def test_sender_and_subscriber_flow_end_to_end(suite: Suite) -> None:
    sender = await suite.auth("sender")
    destination = (await suite.http.get(f"/v1/destinations/{suite.dest_a}", headers=sender)).json()
    assert destination["status"] == "active"
    identifiers = {s["identifier"] for s in destination["services"]}
    assert f"urn:de:fim:leika:leistung:{LEIKA_DOG}" in identifiers
    key = (
        await suite.http.get(f"/v1/destinations/{suite.dest_a}/keys/{destination['encryptionKid']}")
    ).json()
    assert key["alg"] == "RSA-OAEP-256"
    assert key["key_ops"] == ["wrapKey"]
    assert "d" not in key

    contents = {str(uuid.uuid4()): b"small attachment", str(uuid.uuid4()): b"x" * 5000}
    created = await announce(suite, list(contents))
    assert set(created) == {"destinationId", "submissionId", "caseId"}
    submission_id, case_id = created["submissionId"], created["caseId"]
    for attachment_id, content in contents.items():
        answer = await upload(suite, submission_id, attachment_id, suite.encrypt_for_a(content, "text/plain"))
        assert answer.status_code == 204, answer.text
    data = json.dumps({"hund": {"name": "Bello"}}).encode()
    submitted = await suite.http.put(
        f"/v1/submissions/{submission_id}",
        json={
            "encryptedMetadata": suite.encrypt_for_a(metadata_for(data, contents)),
            "encryptedData": suite.encrypt_for_a(data),
        },
        headers=sender,
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json() == created

    announced = await suite.bus.expect("submission.submitted", lambda e: e["submission_id"] == submission_id)
    assert announced["case_id"] == case_id
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == submission_id
    )
    assert suite.decrypt(ready["encrypted_data"])[1] == data
    refs = {a["attachment_id"]: a for a in ready["attachments"]}
    small, large = list(contents)
    assert suite.decrypt(refs[small]["content"])[1] == contents[small], "small attachments travel inline"
    assert refs[large]["content"] is None, "large ones are fetched from download_url"
    assert refs[large]["download_url"].endswith(f"/v1/submissions/{submission_id}/attachments/{large}")

    subscriber = await suite.auth("subscriber-a")
    listing = (
        await suite.http.get(f"/v1/submissions?destinationId={suite.dest_a}&limit=500", headers=subscriber)
    ).json()
    assert {"destinationId": suite.dest_a, "submissionId": submission_id, "caseId": case_id} in listing[
        "submissions"
    ]
    assert listing["totalCount"] >= listing["count"] >= 1
    fetched = (await suite.http.get(f"/v1/submissions/{submission_id}", headers=subscriber)).json()
    assert fetched["serviceType"] == SERVICE_TYPE
    assert set(fetched["attachments"]) == set(contents)
    header, metadata = suite.decrypt(fetched["encryptedMetadata"])
    assert header.kid == suite.keys.dest_a.kid
    assert (
        json.loads(metadata)["contentStructure"]["data"]["hash"]["content"]
        == hashlib.sha512(data).hexdigest()
    )
    downloaded = await suite.http.get(refs[large]["download_url"], headers=subscriber)
    assert downloaded.headers["content-type"] == "application/jose"
    assert suite.decrypt(downloaded.text)[1] == contents[large]

    accept = await accept_of(suite, submission_id, case_id)
    posted = await suite.http.post(
        f"/v1/cases/{case_id}/events",
        content=accept,
        headers={"Content-Type": "application/jose", **subscriber},
    )
    assert posted.status_code == 204, posted.text
    again = await suite.http.post(
        f"/v1/cases/{case_id}/events",
        content=accept,
        headers={"Content-Type": "application/jose", **subscriber},
    )
    problem(again, 422, "security-event-token-replayed")
    reject = decision(suite, "reject-submission", submission_id, case_id, problems=[])
    problem(
        await suite.http.post(
            f"/v1/cases/{case_id}/events",
            content=reject,
            headers={"Content-Type": "application/jose", **subscriber},
        ),
        409,
        "submission-state-invalid",
    )

    log = (await suite.http.get(f"/v1/submissions/{submission_id}/events", headers=sender)).json()["eventLog"]
    assert log == (await suite.http.get(f"/v1/cases/{case_id}/events", headers=subscriber)).json()["eventLog"]
    jwks = KeySet.import_key_set((await suite.http.get("/.well-known/jwks.json")).json())
    ours = [jwt.decode(token, jwks, algorithms=["PS512"]) for token in log[:-1]]
    assert [next(iter(t.claims["events"])).removeprefix(EVENTS) for t in ours] == [
        "create-submission",
        "submit-submission",
    ]
    assert all(t.header["typ"] == "secevent+jwt" and t.header["alg"] == "PS512" for t in ours)
    assert all(
        t.claims["sub"] == f"submission:{submission_id}" and t.claims["txn"] == f"case:{case_id}"
        for t in ours
    )
    assert log[-1] == accept, "the destination's own SET is kept as it signed it"
    assert submission_id not in {
        s["submissionId"]
        for s in (await suite.http.get("/v1/submissions?limit=500", headers=subscriber)).json()["submissions"]
    }


async def test_concurrent_submits_complete_a_submission_once(suite: Suite) -> None:
    sender = await suite.auth("sender")
    created = await announce(suite, [])
    sid = created["submissionId"]
    payload = {"encryptedMetadata": suite.encrypt_for_a(b"{}"), "encryptedData": suite.encrypt_for_a(b"{}")}
    answers = await asyncio.gather(
        *(suite.http.put(f"/v1/submissions/{sid}", json=payload, headers=sender) for _ in range(6))
    )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 5, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 200:
            assert answer.json() == created
        else:
            problem(answer, 409, "submission-state-invalid")

    log = (await suite.http.get(f"/v1/submissions/{sid}/events", headers=sender)).json()["eventLog"]
    jwks = KeySet.import_key_set((await suite.http.get("/.well-known/jwks.json")).json())
    events = [next(iter(jwt.decode(t, jwks, algorithms=["PS512"]).claims["events"])) for t in log]
    assert [e.removeprefix(EVENTS) for e in events] == [
        "create-submission",
        "submit-submission",
    ]
    await suite.bus.expect("submission.ready_for_delivery", lambda e: e["submission_id"] == sid)
    published = [e.type for e in suite.bus.seen if e.data.get("submission_id") == sid]
    assert sorted(published) == [
        "de.ozg-router.submission.ready_for_delivery",
        "de.ozg-router.submission.submitted",
    ]


async def test_scopes_separate_senders_and_subscribers(suite: Suite) -> None:
    created = await announce(suite, [])
    submission_id = created["submissionId"]
    await suite.http.put(
        f"/v1/submissions/{submission_id}",
        json={"encryptedMetadata": suite.encrypt_for_a(b"{}"), "encryptedData": suite.encrypt_for_a(b"{}")},
        headers=await suite.auth("sender"),
    )
    sender, other = await suite.auth("sender"), await suite.auth("subscriber-b")
    problem(await suite.http.get(f"/v1/submissions/{submission_id}", headers=sender), 403, "forbidden")
    problem(await suite.http.get("/v1/submissions", headers=sender), 403, "forbidden")
    problem(await suite.http.get(f"/v1/submissions/{submission_id}", headers=other), 403, "forbidden")
    problem(
        await suite.http.get(f"/v1/submissions?destinationId={suite.dest_a}", headers=other), 403, "forbidden"
    )
    problem(await suite.http.get(f"/v1/submissions/{submission_id}/events", headers=other), 403, "forbidden")
    own = (await suite.http.get("/v1/submissions?limit=500", headers=other)).json()["submissions"]
    assert all(s["destinationId"] == suite.dest_b for s in own)
    as_subscriber = await suite.http.post(
        "/v1/submissions",
        json={"destinationId": suite.dest_a, "announcedAttachments": [], "serviceType": SERVICE_TYPE},
        headers=await suite.auth("subscriber-a"),
    )
    problem(as_subscriber, 403, "forbidden")
    problem(await suite.http.get(f"/v1/destinations/{suite.dest_a}"), 401, "unauthorized")
    bogus = {"Authorization": "Bearer not.a.token"}
    problem(await suite.http.get(f"/v1/submissions/{submission_id}", headers=bogus), 401, "unauthorized")
    restricted = await suite.http.post(
        "/v1/submissions",
        json={
            "destinationId": suite.dest_a,
            "announcedAttachments": [],
            "serviceType": {"name": "Sonstiges", "identifier": "99999999999999"},
        },
        headers=await suite.auth("sender-dogs-only"),
    )
    problem(restricted, 403, "forbidden")


async def test_sender_error_paths(suite: Suite) -> None:
    sender = await suite.auth("sender")
    unknown = await suite.http.post(
        "/v1/submissions",
        json={"destinationId": "nope", "announcedAttachments": [], "serviceType": SERVICE_TYPE},
        headers=sender,
    )
    assert (
        problem(unknown, 404, "destination-not-found")["type"]
        == FIT_CONNECT_PROBLEMS + "destination-not-found"
    )
    closed = await suite.http.post(
        "/v1/submissions",
        json={"destinationId": suite.dest_closed, "announcedAttachments": [], "serviceType": SERVICE_TYPE},
        headers=sender,
    )
    assert problem(closed, 422, "destination-state-invalid")["type"].startswith(FIT_CONNECT_PROBLEMS)
    too_many = await suite.http.post(
        "/v1/submissions",
        json={
            "destinationId": suite.dest_a,
            "announcedAttachments": [str(uuid.uuid4()) for _ in range(6)],
            "serviceType": SERVICE_TYPE,
        },
        headers=sender,
    )
    problem(too_many, 413, "payload-too-large")
    not_offered = await suite.http.post(
        "/v1/submissions",
        json={
            "destinationId": suite.dest_b,
            "announcedAttachments": [],
            "serviceType": {"name": "x", "identifier": "99999999999999"},
        },
        headers=sender,
    )
    problem(not_offered, 422, "service-not-offered")
    malformed = await suite.http.post(
        "/v1/submissions", content=b"{", headers={"Content-Type": "application/json", **sender}
    )
    problem(malformed, 400, "bad-request")
    problem(await suite.http.get("/v1/destinations/nope", headers=sender), 404, "destination-not-found")
    problem(await suite.http.get(f"/v1/destinations/{suite.dest_a}/keys/other"), 404, "key-not-found")

    attachment = str(uuid.uuid4())
    created = await announce(suite, [attachment])
    sid = created["submissionId"]
    payload = {"encryptedMetadata": suite.encrypt_for_a(b"{}"), "encryptedData": suite.encrypt_for_a(b"{}")}
    problem(
        await suite.http.put(f"/v1/submissions/{sid}", json=payload, headers=sender),
        422,
        "missing-attachments",
    )
    problem(
        await upload(suite, sid, str(uuid.uuid4()), suite.encrypt_for_a(b"a")),
        422,
        "attachment-not-announced",
    )
    problem(await upload(suite, sid, attachment, "not a jwe"), 400, "invalid-jwe")
    problem(await upload(suite, sid, attachment, "a.b.c.d.e"), 400, "invalid-jwe")
    wrong_alg = suite.encrypt_for_a(b"a").split(".", 1)[1]
    header = json.dumps({"alg": "RSA1_5", "enc": "A128CBC-HS256"}).encode()
    forged = base64.urlsafe_b64encode(header).rstrip(b"=").decode() + "." + wrong_alg
    problem(await upload(suite, sid, attachment, forged), 422, "invalid-jwe-header")
    wrong_type = await suite.http.put(
        f"/v1/submissions/{sid}/attachments/{attachment}",
        content=suite.encrypt_for_a(b"a").encode(),
        headers={"Content-Type": "application/octet-stream", **sender},
    )
    problem(wrong_type, 415, "unsupported-media-type")
    problem(
        await upload(suite, sid, attachment, suite.encrypt_for_a(b"z" * 70_000, "text/plain")),
        413,
        "payload-too-large",
    )
    assert (await upload(suite, sid, attachment, suite.encrypt_for_a(b"ok", "text/plain"))).status_code == 204

    no_cty = {
        "encryptedMetadata": suite.encrypt_for_a(b"{}"),
        "encryptedData": suite.encrypt_for_a(b"{}", None),
    }
    problem(
        await suite.http.put(f"/v1/submissions/{sid}", json=no_cty, headers=sender), 422, "invalid-jwe-header"
    )
    not_jwe = {"encryptedMetadata": "plain text", "encryptedData": suite.encrypt_for_a(b"{}")}
    problem(await suite.http.put(f"/v1/submissions/{sid}", json=not_jwe, headers=sender), 400, "invalid-jwe")
    assert (await suite.http.put(f"/v1/submissions/{sid}", json=payload, headers=sender)).status_code == 200
    problem(
        await suite.http.put(f"/v1/submissions/{sid}", json=payload, headers=sender),
        409,
        "submission-state-invalid",
    )
    problem(
        await upload(suite, sid, attachment, suite.encrypt_for_a(b"late")), 409, "submission-state-invalid"
    )

    other_sender = await suite.auth("sender-dogs-only")
    problem(
        await suite.http.put(f"/v1/submissions/{sid}", json=payload, headers=other_sender),
        404,
        "submission-not-found",
    )
    problem(
        await suite.http.put(f"/v1/submissions/{uuid.uuid4()}", json=payload, headers=sender),
        404,
        "submission-not-found",
    )
    problem(
        await suite.http.get(f"/v1/submissions/{uuid.uuid4()}", headers=await suite.auth("subscriber-a")),
        404,
        "submission-not-found",
    )
    problem(await suite.http.get(f"/v1/cases/{uuid.uuid4()}/events", headers=sender), 404, "case-not-found")


async def test_subscriber_decision_errors(suite: Suite) -> None:
    created = await announce(suite, [])
    sid, cid = created["submissionId"], created["caseId"]
    subscriber = await suite.auth("subscriber-a")
    jose_headers = {"Content-Type": "application/jose", **subscriber}
    early = decision(suite, "reject-submission", sid, cid, problems=[{"title": "x"}])
    problem(
        await suite.http.post(f"/v1/cases/{cid}/events", content=early, headers=jose_headers),
        409,
        "submission-state-invalid",
    )
    await suite.http.put(
        f"/v1/submissions/{sid}",
        json={"encryptedMetadata": suite.encrypt_for_a(b"{}"), "encryptedData": suite.encrypt_for_a(b"{}")},
        headers=await suite.auth("sender"),
    )
    bad = [
        "garbage",
        decision(suite, "submit-submission", sid, cid),
        decision(suite, "accept-submission", sid, str(uuid.uuid4())),
    ]
    for token in bad:
        answer = await suite.http.post(f"/v1/cases/{cid}/events", content=token, headers=jose_headers)
        problem(answer, 422, "invalid-security-event-token")
    other = {"Content-Type": "application/jose", **await suite.auth("subscriber-b")}
    problem(await suite.http.post(f"/v1/cases/{cid}/events", content=early, headers=other), 403, "forbidden")
    problem(
        await suite.http.post(f"/v1/cases/{cid}/events", content=early, headers=subscriber),
        415,
        "unsupported-media-type",
    )
    assert (
        await suite.http.post(f"/v1/cases/{cid}/events", content=early, headers=jose_headers)
    ).status_code == 204
    log = (await suite.http.get(f"/v1/cases/{cid}/events", headers=subscriber)).json()["eventLog"]
    assert log[-1] == early


async def test_destination_publishes_its_signature_verification_key(suite: Suite) -> None:
    kid = suite.keys.subscriber.kid
    key = await suite.http.get(f"/v1/destinations/{suite.dest_a}/keys/{kid}")
    assert key.status_code == 200, key.text
    body = key.json()
    assert body["kid"] == kid
    assert body["alg"] == "PS512"
    assert body["key_ops"] == ["verify"]
    assert body["use"] == "sig"
    assert not {"d", "p", "q"} & body.keys()
    assert body["n"] == suite.keys.public(suite.keys.subscriber)["n"]
    problem(await suite.http.get(f"/v1/destinations/{suite.dest_b}/keys/{kid}"), 404, "key-not-found")


async def test_decisions_must_be_signed_by_the_destination(suite: Suite) -> None:
    sid, cid = await submitted(suite)
    other_sid, other_cid = await submitted(suite)
    subscriber = await suite.auth("subscriber-a")
    jose_headers = {"Content-Type": "application/jose", **subscriber}
    tags = await tags_seen(suite, sid)  # fetched: sid is delivered now

    def accepting(submission_id: str, case_id: str, **changes: Any) -> str:
        return decision(
            suite, "accept-submission", submission_id, case_id, authenticationTags=tags, **changes
        )

    accept = accepting(sid, cid)
    header, _, signature = accept.split(".")
    other_claims = accepting(sid, cid).split(".")[1]  # another jti
    forger = suite.keys.zufi
    hour = 3600
    refused = {
        "invalid-security-event-token-signature": [
            accepting(sid, cid, key=forger),
            accepting(sid, cid, key=forger, header={"kid": "subscriber-sig"}),
            f"{header}.{other_claims}.{signature}",
        ],
        "invalid-security-event-token": [
            unsigned(accept),
            unsigned(accept, "HS512") + "c2lnbmF0dXJl",
            accepting(sid, cid, claims={"iss": suite.dest_b}),
            accepting(sid, cid, claims={"iat": float("nan")}),
            accepting(sid, other_cid),
        ],
        "security-event-token-expired": [
            accepting(sid, cid, claims={"iat": int(time.time()) - 2 * hour}),
            accepting(sid, cid, claims={"iat": int(time.time()) + hour}),
            accepting(sid, cid, claims={"exp": int(time.time()) - hour}),
        ],
    }
    for slug, tokens in refused.items():
        for token in tokens:
            answer = await suite.http.post(f"/v1/cases/{cid}/events", content=token, headers=jose_headers)
            problem(answer, 422, slug)
    for_other_submission = accepting(other_sid, cid)
    problem(
        await suite.http.post(f"/v1/cases/{cid}/events", content=for_other_submission, headers=jose_headers),
        404,
        "case-not-found",
    )
    unknown = accepting(str(uuid.uuid4()), cid)
    problem(
        await suite.http.post(f"/v1/cases/{cid}/events", content=unknown, headers=jose_headers),
        404,
        "case-not-found",
    )

    sender = await suite.auth("sender")
    for submission_id, unchanged in ((sid, "delivered"), (other_sid, "forwarded")):
        log = (await suite.http.get(f"/v1/submissions/{submission_id}/events", headers=sender)).json()
        assert len(log["eventLog"]) == 2, "nothing recorded: create, submit"
        status = (await suite.http.get(f"/v1/applications/{submission_id}", headers=sender)).json()
        assert status["status"] == unchanged

    posted = await suite.http.post(f"/v1/cases/{cid}/events", content=accept, headers=jose_headers)
    assert posted.status_code == 204, posted.text
    log = (await suite.http.get(f"/v1/cases/{cid}/events", headers=sender)).json()["eventLog"]
    assert log[-1] == accept
    assert len(log) == 3


async def test_a_destination_without_a_signing_key_cannot_decide(suite: Suite) -> None:
    sid, cid = await submitted(suite, suite.dest_c)
    token = decision(suite, "reject-submission", sid, cid, claims={"iss": suite.dest_c}, problems=[])
    answer = await suite.http.post(
        f"/v1/cases/{cid}/events",
        content=token,
        headers={"Content-Type": "application/jose", **await suite.auth("subscriber-c")},
    )
    assert (
        "no signature verification key"
        in problem(answer, 422, "invalid-security-event-token-signature")["detail"]
    )


async def test_decisions_through_the_subscriber_api_reach_the_mailbox_once(suite: Suite) -> None:
    subscriber = {"Content-Type": "application/jose", **await suite.auth("subscriber-a")}
    sender = await suite.auth("sender")
    accepted_sid, accepted_cid = await submitted(suite)
    rejected_sid, rejected_cid = await submitted(suite)
    accept = await accept_of(suite, accepted_sid, accepted_cid)
    problems = [{"type": "https://example.org/problems/missing-document", "title": "Unterlagen fehlen"}]
    reject = decision(suite, "reject-submission", rejected_sid, rejected_cid, problems=problems)
    for case_id, token in ((accepted_cid, accept), (rejected_cid, reject)):
        answer = await suite.http.post(f"/v1/cases/{case_id}/events", content=token, headers=subscriber)
        assert answer.status_code == 204, answer.text

    accepted = await suite.bus.expect("case.accepted", lambda e: e["case_id"] == accepted_cid)
    assert accepted["submission_id"] == accepted_sid
    assert accepted["destination_id"] == suite.dest_a
    assert accepted["security_event_token"] == accept
    rejected = await suite.bus.expect("case.rejected", lambda e: e["case_id"] == rejected_cid)
    assert rejected["problems"] == problems
    assert rejected["security_event_token"] == reject

    # submission consumes delivery.events too: its own announcement must not record the decision twice.
    await asyncio.sleep(2)
    for submission_id, case_id, wanted in (
        (accepted_sid, accepted_cid, "accepted"),
        (rejected_sid, rejected_cid, "rejected"),
    ):
        log = (await suite.http.get(f"/v1/cases/{case_id}/events", headers=sender)).json()["eventLog"]
        assert len(log) == 3, "create, submit and the destination's decision"
        status = (await suite.http.get(f"/v1/applications/{submission_id}", headers=sender)).json()
        assert status["status"] == wanted
        announced = [
            e
            for e in suite.bus.seen
            if e.type.startswith("de.ozg-router.case.") and e.data["case_id"] == case_id
        ]
        assert len(announced) == 1, announced


async def test_region_and_service_restricted_senders_over_fit_connect(suite: Suite) -> None:
    def body(destination: str, identifier: str = SERVICE_TYPE["identifier"]) -> dict[str, Any]:
        return {
            "destinationId": destination,
            "announcedAttachments": [],
            "serviceType": {"name": "Hundesteuer", "identifier": identifier},
        }

    region = await suite.auth("sender-region")  # send:region:01002 (Kiel)
    inside = await suite.http.post("/v1/submissions", json=body(suite.dest_a), headers=region)
    assert inside.status_code == 201, inside.text
    outside = await suite.http.post("/v1/submissions", json=body(suite.dest_b), headers=region)
    assert "010580000000" in problem(outside, 403, "forbidden")["detail"]
    unknown_area = await suite.http.post("/v1/submissions", json=body(suite.dest_c), headers=region)
    problem(unknown_area, 403, "forbidden")

    dogs = await suite.auth("sender-dogs-only")  # send:service:<Hundesteuer>
    allowed = await suite.http.post("/v1/submissions", json=body(suite.dest_b, LEIKA_DOG), headers=dogs)
    assert allowed.status_code == 201, allowed.text
    problem(
        await suite.http.post("/v1/submissions", json=body(suite.dest_a, "99050012104000"), headers=dogs),
        403,
        "forbidden",
    )


async def post_event(suite: Suite, case_id: str, token: str) -> Any:
    headers = {"Content-Type": "application/jose", **await suite.auth("subscriber-a")}
    return await suite.http.post(f"/v1/cases/{case_id}/events", content=token, headers=headers)


async def log_length(suite: Suite, case_id: str) -> int:
    log = (await suite.http.get(f"/v1/cases/{case_id}/events", headers=await suite.auth("sender"))).json()
    return int(log["totalCount"])


async def test_an_accept_must_repeat_the_authentication_tags(suite: Suite) -> None:
    contents = {str(uuid.uuid4()): b"one", str(uuid.uuid4()): b"two"}
    created = await announce(suite, list(contents))
    sid, cid = created["submissionId"], created["caseId"]
    for aid, content in contents.items():
        assert (await upload(suite, sid, aid, suite.encrypt_for_a(content, "text/plain"))).status_code == 204
    answer = await suite.http.put(
        f"/v1/submissions/{sid}",
        json={"encryptedMetadata": suite.encrypt_for_a(b"{}"), "encryptedData": suite.encrypt_for_a(b"{}")},
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 200, answer.text
    tags = await tags_seen(suite, sid)
    first, second = contents
    swapped = suite.encrypt_for_a(b"{}").rsplit(".", 1)[1]
    wrong = [
        tags | {"metadata": swapped},
        tags | {"data": swapped},
        {"metadata": tags["metadata"], "attachments": tags["attachments"]},
        tags | {"attachments": {first: tags["attachments"][first]}},
        tags | {"attachments": {first: tags["attachments"][second], second: tags["attachments"][first]}},
        tags | {"attachments": tags["attachments"] | {str(uuid.uuid4()): swapped}},
    ]
    for changed in wrong:
        token = decision(suite, "accept-submission", sid, cid, authenticationTags=changed)
        problem(await post_event(suite, cid, token), 422, "authentication-tags-mismatch")
    problem(
        await post_event(suite, cid, decision(suite, "accept-submission", sid, cid)),
        422,
        "invalid-security-event-token",
    )
    assert await log_length(suite, cid) == 2, "nothing recorded"
    assert (await post_event(suite, cid, await accept_of(suite, sid, cid))).status_code == 204
    assert await log_length(suite, cid) == 3


async def test_a_jti_is_taken_once(suite: Suite) -> None:
    sid, cid = await submitted(suite)
    forward = decision(suite, "forward-submission", sid, cid)
    assert (await post_event(suite, cid, forward)).status_code == 204
    problem(await post_event(suite, cid, forward), 422, "security-event-token-replayed")
    used = claims_of(forward)["jti"]
    problem(
        await post_event(suite, cid, await accept_of(suite, sid, cid, claims={"jti": used})),
        422,
        "security-event-token-replayed",
    )
    jwks = KeySet.import_key_set((await suite.http.get("/.well-known/jwks.json")).json())
    sender = await suite.auth("sender")
    ours = (await suite.http.get(f"/v1/cases/{cid}/events", headers=sender)).json()["eventLog"][0]
    own_jti = jwt.decode(ours, jwks, algorithms=["PS512"]).claims["jti"]
    problem(
        await post_event(suite, cid, await accept_of(suite, sid, cid, claims={"jti": own_jti})),
        422,
        "security-event-token-replayed",
    )
    other_sid, other_cid = await submitted(suite)
    problem(
        await post_event(
            suite, other_cid, await accept_of(suite, other_sid, other_cid, claims={"jti": used})
        ),
        422,
        "security-event-token-replayed",
    )
    assert await log_length(suite, cid) == 3, "create, submit and the destination's forward"
    assert await log_length(suite, other_cid) == 2


async def test_decisions_signed_otherwise_are_refused(suite: Suite) -> None:
    sid, cid = await submitted(suite)
    tags = await tags_seen(suite, sid)
    own = suite.keys.subscriber

    def signed_as(alg: str) -> str:
        """Destination a's accept, signed with its own key but another algorithm than PS512."""
        payload = claims_of(decision(suite, "accept-submission", sid, cid, authenticationTags=tags))
        header = {"alg": alg, "typ": "secevent+jwt", "kid": own.kid}
        return jws.serialize_compact(header, json.dumps(payload).encode(), own, algorithms=[alg])

    refused = {
        "invalid-security-event-token-signature": [
            decision(suite, "accept-submission", sid, cid, key=suite.keys.zufi, authenticationTags=tags),
            decision(suite, "reject-submission", sid, cid, key=suite.keys.dest_a, problems=[]),
            decision(suite, "forward-submission", sid, cid, key=suite.keys.zufi, header={"kid": own.kid}),
        ],
        "invalid-security-event-token": [
            signed_as("PS256"),
            signed_as("RS512"),
            decision(suite, "accept-submission", sid, cid, authenticationTags=tags, claims={"$schema": None}),
            decision(suite, "reject-submission", sid, cid, problems=[], claims={"$schema": None}),
            decision(
                suite,
                "forward-submission",
                sid,
                cid,
                claims={
                    "$schema": "https://schema.fitko.de/fit-connect/set-payload/7.0.0/set-payload.schema.json"
                },
            ),
        ],
    }
    for slug, tokens in refused.items():
        for token in tokens:
            problem(await post_event(suite, cid, token), 422, slug)
    assert await log_length(suite, cid) == 2, "nothing recorded"
    sender = await suite.auth("sender")
    assert (await suite.http.get(f"/v1/applications/{sid}", headers=sender)).json()["status"] == "delivered"


async def test_a_destination_forwards_then_decides(suite: Suite) -> None:
    sid, cid = await submitted(suite)
    forward = decision(suite, "forward-submission", sid, cid)
    assert (await post_event(suite, cid, forward)).status_code == 204
    sender = await suite.auth("sender")
    assert (await suite.http.get(f"/v1/applications/{sid}", headers=sender)).json()["status"] == "forwarded"
    accept = await accept_of(suite, sid, cid)
    assert (await post_event(suite, cid, accept)).status_code == 204
    log = (await suite.http.get(f"/v1/cases/{cid}/events", headers=sender)).json()["eventLog"]
    assert log[-2:] == [forward, accept]
    assert (await suite.http.get(f"/v1/applications/{sid}", headers=sender)).json()["status"] == "accepted"
    problem(
        await post_event(suite, cid, decision(suite, "forward-submission", sid, cid)),
        409,
        "submission-state-invalid",
    )


async def test_a_jwe_whose_fifth_part_is_no_tag_is_refused(suite: Suite) -> None:
    attachment_id = str(uuid.uuid4())
    created = await announce(suite, [attachment_id])
    valid = suite.encrypt_for_a(b"content", "text/plain")
    without_tag = valid.rsplit(".", 1)[0]
    for token in (f"{without_tag}.", f"{without_tag}.{'A' * 65}", f"{without_tag}.not+base64url"):
        problem(await upload(suite, created["submissionId"], attachment_id, token), 400, "invalid-jwe")
    answer = await suite.http.put(
        f"/v1/submissions/{created['submissionId']}",
        json={"encryptedMetadata": suite.encrypt_for_a(b"{}")},
        headers=await suite.auth("sender"),
    )
    problem(answer, 422, "missing-attachments")
    assert (await upload(suite, created["submissionId"], attachment_id, valid)).status_code == 204
    metadata = suite.encrypt_for_a(b"{}").rsplit(".", 1)[0] + ".tag+with/slash"
    answer = await suite.http.put(
        f"/v1/submissions/{created['submissionId']}",
        json={"encryptedMetadata": metadata},
        headers=await suite.auth("sender"),
    )
    problem(answer, 400, "invalid-jwe")

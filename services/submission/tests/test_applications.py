"""Native intake over HTTP: routing through zufi, JSON Schema, XÖV XML + XSD, encryption, malicious XML."""

import base64
import hashlib
import json
from typing import Any

from joserfc import jws
from joserfc.jwk import KeySet
from submission_testkit import (
    AGS_KIEL,
    ARS_AMBIGUOUS,
    ARS_KIEL,
    ARS_NOWHERE,
    ARS_SIGNED_ELSEWHERE,
    LEIKA_DOG,
    LEIKA_OTHER,
    Suite,
    problem,
)

from ozg_common import xoev

APPLICANT = {
    "givenName": "Erika",
    "familyName": "Mustermann",
    "email": "erika@example.org",
    "address": {
        "street": "Holstenstraße",
        "houseNumber": "1",
        "postalCode": "24103",
        "city": "Kiel",
        "country": "DE",
    },
}
FORM = {
    "hund": {"name": "Bello", "geburtsjahr": 2019, "gewicht": 12.5, "gefaehrlich": False},
    "halterSeit": "2024-01-01",
}


def application(**overrides: Any) -> dict[str, Any]:
    return {"leikaKey": LEIKA_DOG, "ars": ARS_KIEL, "applicant": APPLICANT, "formData": FORM} | overrides


async def test_json_application_is_routed_rendered_validated_and_encrypted(suite: Suite) -> None:
    body = application(
        replyChannel={"idBundDeMailbox": {"mailboxUuid": "c0ffee00-0000-4000-8000-000000000001"}}
    )
    answer = await suite.http.post("/v1/applications", json=body, headers=await suite.auth("sender"))
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["destinationId"] == suite.dest_a
    assert created["status"] == "forwarded"
    assert created["statusUrl"].endswith(f"/v1/applications/{created['submissionId']}")
    status = await suite.http.get(created["statusUrl"], headers=await suite.auth("sender"))
    assert status.json()["status"] == "forwarded"

    submitted = await suite.bus.expect(
        "submission.submitted", lambda e: e["submission_id"] == created["submissionId"]
    )
    assert submitted["mailbox_uuid"] == "c0ffee00-0000-4000-8000-000000000001"
    assert submitted["authority_name"] == "Amt a"
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == created["submissionId"]
    )
    header, xml = suite.decrypt(ready["encrypted_data"])
    assert header.cty == "application/xml"
    tree = xoev.validate(xml)
    root = tree.getroot()
    ns = {"a": xoev.ANTRAG_NAMESPACE}
    assert root.findtext("a:antragsteller/a:familienname", namespaces=ns) == "Mustermann"
    assert root.findtext("a:nachrichtenkopf.g2g/a:leser/a:kennung", namespaces=ns) == "auth-a"
    assert root.findtext("a:vorgang/a:caseId", namespaces=ns) == created["caseId"]
    assert (
        root.find("a:antragsdaten/a:feld[@name='hund']/a:objekt/a:feld[@name='geburtsjahr']/a:zahl", ns).text
        == "2019"
    )
    metadata = suite.metadata(ready["encrypted_metadata"])
    assert metadata["contentStructure"]["data"]["hash"]["content"] == hashlib.sha512(xml).hexdigest()
    assert metadata["replyChannel"]["idBundDeMailbox"]["mailboxUuid"].startswith("c0ffee00")

    by_ags = await suite.http.post(
        "/v1/applications", json=application(ars=None, ags=AGS_KIEL), headers=await suite.auth("sender")
    )
    assert by_ags.status_code == 201, by_ags.text

    # The case's event log: created and submitted, each a SET signed with our published key; that it
    # was forwarded shows in its status (forward-submission is the destination's to write).
    log = await suite.http.get(f"/v1/cases/{created['caseId']}/events", headers=await suite.auth("sender"))
    assert log.status_code == 200, log.text
    keys = KeySet.import_key_set((await suite.http.get("/.well-known/jwks.json")).json())
    claims = [
        json.loads(jws.deserialize_compact(token, keys, algorithms=["PS512"]).payload)
        for token in log.json()["eventLog"]
    ]
    assert [next(iter(c["events"])).rsplit("/", 1)[1] for c in claims] == [
        "create-submission",
        "submit-submission",
    ]
    assert {c["sub"] for c in claims} == {f"submission:{created['submissionId']}"}


async def test_multipart_application_with_attachments(suite: Suite) -> None:
    files = [
        ("attachments", ("nachweis.pdf", b"%PDF-1.7 fake but bytes", "application/pdf")),
        ("attachments", ("foto.png", b"\x89PNG" + bytes(range(256)) * 10, "image/png")),
    ]
    answer = await suite.http.post(
        "/v1/applications",
        data={"application": json.dumps(application())},
        files=files,
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 201, answer.text
    sid = answer.json()["submissionId"]
    ready = await suite.bus.expect("submission.ready_for_delivery", lambda e: e["submission_id"] == sid)
    assert len(ready["attachments"]) == 2
    metadata = suite.metadata(ready["encrypted_metadata"])
    described = {a["filename"]: a for a in metadata["contentStructure"]["attachments"]}
    subscriber = await suite.auth("subscriber-a")
    for ref in ready["attachments"]:
        token = ref["content"] or (await suite.http.get(ref["download_url"], headers=subscriber)).text
        header, content = suite.decrypt(token)
        entry = next(a for a in described.values() if a["attachmentId"] == ref["attachment_id"])
        assert hashlib.sha512(content).hexdigest() == entry["hash"]["content"]
        assert header.cty == entry["mimeType"]
    xml = suite.decrypt(ready["encrypted_data"])[1]
    assert b"nachweis.pdf" in xml
    assert b"<antrag:anlagen>" in xml


async def test_form_and_xml_validation_failures(suite: Suite) -> None:
    sender = await suite.auth("sender")
    bad_form = application(formData={"hund": {"name": "", "geburtsjahr": 1800}, "halterSeit": "yesterday"})
    body = problem(
        await suite.http.post("/v1/applications", json=bad_form, headers=sender), 422, "form-data-invalid"
    )
    names = {p["name"] for p in body["invalid_params"]}
    assert {"formData.hund.name", "formData.hund.geburtsjahr", "formData.halterSeit"} <= names

    bad_postal = application(applicant=APPLICANT | {"address": {"postalCode": "24103!!"}})
    body = problem(
        await suite.http.post("/v1/applications", json=bad_postal, headers=sender), 422, "xml-schema-invalid"
    )
    assert any("postleitzahl" in p["name"] for p in body["invalid_params"])
    control = application(formData=FORM | {"note": "bell \x07"})
    problem(
        await suite.http.post("/v1/applications", json=control, headers=sender), 422, "xml-schema-invalid"
    )
    long_name = application(applicant=APPLICANT | {"givenName": "E" * 300})
    problem(
        await suite.http.post("/v1/applications", json=long_name, headers=sender), 422, "xml-schema-invalid"
    )

    problem(
        await suite.http.post("/v1/applications", json={"leikaKey": LEIKA_DOG}, headers=sender),
        400,
        "invalid-application",
    )
    two_areas = application(ags=AGS_KIEL)
    problem(
        await suite.http.post("/v1/applications", json=two_areas, headers=sender), 400, "invalid-application"
    )
    problem(
        await suite.http.post(
            "/v1/applications", content=b"{", headers={"Content-Type": "application/json", **sender}
        ),
        400,
        "invalid-application",
    )
    problem(
        await suite.http.post(
            "/v1/applications", content=b"x", headers={"Content-Type": "text/plain", **sender}
        ),
        415,
        "unsupported-media-type",
    )
    huge = application(formData=FORM | {"blob": "x" * 300_000})
    problem(await suite.http.post("/v1/applications", json=huge, headers=sender), 413, "payload-too-large")


async def test_routing_failures(suite: Suite) -> None:
    sender = await suite.auth("sender")
    ambiguous = await suite.http.post("/v1/applications", json=application(ars=ARS_AMBIGUOUS), headers=sender)
    body = problem(ambiguous, 422, "ambiguous-area")
    assert {c["destinationId"] for c in body["candidates"]} == {suite.dest_a, suite.dest_b}
    chosen = next(c for c in body["candidates"] if c["destinationId"] == suite.dest_b)
    picked = await suite.http.post(
        "/v1/applications",
        json=application(ars=None, destinationSignature=chosen["destinationSignature"]),
        headers=sender,
    )
    assert picked.status_code == 201, picked.text
    assert picked.json()["destinationId"] == suite.dest_b

    problem(
        await suite.http.post("/v1/applications", json=application(ars=ARS_NOWHERE), headers=sender),
        404,
        "route-not-found",
    )
    misrouted = await suite.http.post(
        "/v1/applications", json=application(ars=ARS_SIGNED_ELSEWHERE), headers=sender
    )
    assert "010030000000" in problem(misrouted, 422, "invalid-destination-signature")["detail"]
    forged = suite.zufi.sign(suite.dest_b, LEIKA_DOG, ARS_KIEL, key=suite.keys.subscriber)
    problem(
        await suite.http.post(
            "/v1/applications", json=application(ars=None, destinationSignature=forged), headers=sender
        ),
        422,
        "invalid-destination-signature",
    )
    header, payload, signature = chosen["destinationSignature"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    altered = base64.urlsafe_b64encode(json.dumps(claims | {"destinationId": suite.dest_a}).encode())
    problem(
        await suite.http.post(
            "/v1/applications",
            json=application(
                ars=None, destinationSignature=f"{header}.{altered.decode().rstrip('=')}.{signature}"
            ),
            headers=sender,
        ),
        422,
        "invalid-destination-signature",
    )
    other_service = suite.zufi.sign(suite.dest_a, LEIKA_OTHER, ARS_KIEL)
    problem(
        await suite.http.post(
            "/v1/applications", json=application(ars=None, destinationSignature=other_service), headers=sender
        ),
        422,
        "invalid-destination-signature",
    )
    restricted = await suite.http.post(
        "/v1/applications",
        json=application(leikaKey=LEIKA_OTHER, formData={}),
        headers=await suite.auth("sender-dogs-only"),
    )
    problem(restricted, 403, "forbidden")
    in_region = await suite.http.post(
        "/v1/applications", json=application(), headers=await suite.auth("sender-region")
    )
    assert in_region.status_code == 201
    outside = await suite.http.post(
        "/v1/applications",
        json=application(ars=None, destinationSignature=chosen["destinationSignature"]),
        headers=await suite.auth("sender-region"),
    )
    problem(outside, 403, "forbidden")
    problem(
        await suite.http.post(
            "/v1/applications", json=application(), headers=await suite.auth("subscriber-a")
        ),
        403,
        "forbidden",
    )


DRAFT = f"""<?xml version="1.0" encoding="UTF-8"?>
<antrag:antragsentwurf.0001 xmlns:antrag="{xoev.ANTRAG_NAMESPACE}">
  <antrag:leikaKey>{LEIKA_DOG}</antrag:leikaKey>
  <antrag:ars>{ARS_KIEL}</antrag:ars>
  <antrag:referenz>portal-4711</antrag:referenz>
  <antrag:antragsteller><antrag:vorname>Max</antrag:vorname><antrag:familienname>Muster</antrag:familienname></antrag:antragsteller>
  <antrag:antragsdaten>
    <antrag:feld name="hund"><antrag:objekt>
      <antrag:feld name="name"><antrag:text>Rex</antrag:text></antrag:feld>
      <antrag:feld name="geburtsjahr"><antrag:zahl>2020</antrag:zahl></antrag:feld>
    </antrag:objekt></antrag:feld>
  </antrag:antragsdaten>
</antrag:antragsentwurf.0001>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<antrag:antragsentwurf.0001 xmlns:antrag="https://schema.ozg-router.de/xoev/antrag/1.0"><antrag:leikaKey>&lol9;</antrag:leikaKey></antrag:antragsentwurf.0001>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<antrag:antragsentwurf.0001 xmlns:antrag="https://schema.ozg-router.de/xoev/antrag/1.0"><antrag:leikaKey>&xxe;</antrag:leikaKey></antrag:antragsentwurf.0001>"""

XXE_NETWORK = b"""<?xml version="1.0"?>
<!DOCTYPE foo SYSTEM "http://127.0.0.1:9/evil.dtd">
<foo/>"""


async def test_xml_applications_and_malicious_xml(suite: Suite) -> None:
    xml_headers = {"Content-Type": "application/xml", **await suite.auth("sender")}
    answer = await suite.http.post("/v1/applications", content=DRAFT.encode(), headers=xml_headers)
    assert answer.status_code == 201, answer.text
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == answer.json()["submissionId"]
    )
    xml = suite.decrypt(ready["encrypted_data"])[1]
    assert b"<antrag:vorname>Max</antrag:vorname>" in xml
    metadata = suite.metadata(ready["encrypted_metadata"])
    assert metadata["additionalReferenceInfo"]["senderReference"] == "portal-4711"

    for attack in (BILLION_LAUGHS, XXE, XXE_NETWORK):
        body = problem(
            await suite.http.post("/v1/applications", content=attack, headers=xml_headers),
            400,
            "xml-rejected",
        )
        assert "root:" not in json.dumps(body)
        assert "lollol" not in json.dumps(body)
    problem(
        await suite.http.post("/v1/applications", content=b"<unclosed>", headers=xml_headers),
        400,
        "xml-rejected",
    )
    invalid = DRAFT.replace(LEIKA_DOG, "12345")
    body = problem(
        await suite.http.post("/v1/applications", content=invalid.encode(), headers=xml_headers),
        422,
        "xml-schema-invalid",
    )
    assert any("leikaKey" in p["name"] for p in body["invalid_params"])
    wrong_form = DRAFT.replace("<antrag:zahl>2020</antrag:zahl>", "<antrag:text>2020</antrag:text>")
    problem(
        await suite.http.post("/v1/applications", content=wrong_form.encode(), headers=xml_headers),
        422,
        "form-data-invalid",
    )

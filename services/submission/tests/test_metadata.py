"""FIT-Connect metadata of the native intake: the newest version the destination takes, conforming
to FITKO's published schema of that version (`Suite.metadata` checks each document it decrypts)."""

import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from joserfc.jwk import RSAKey
from submission_testkit import ARS_KIEL, LEIKA_DOG, Suite, problem

from ozg_common.contracts.zufi import DestinationChanged, Zustellkanal
from ozg_submission.lifecycle import metadata
from ozg_testing.standards import FIT_CONNECT

APPLICANT = {"givenName": "Erika", "familyName": "Mustermann"}
DOG_FORM_DATA = {"hund": {"name": "Bello", "geburtsjahr": 2020}}
MAILBOX = {"idBundDeMailbox": {"mailboxUuid": "c0ffee00-2f7a-4d53-9a8b-0f4c1d2e3a4b"}}
E_MAIL = {"eMail": {"address": "erika.mustermann@example.org"}}


def test_the_service_carries_the_published_schemas_byte_for_byte() -> None:
    packaged = Path(metadata.__file__).parent / "metadata-schemas"
    for version in ("1.0.0", "2.1.0"):
        published = FIT_CONNECT / "metadata" / version / "metadata.schema.json"
        assert (packaged / version / "metadata.schema.json").read_bytes() == published.read_bytes()


async def destination_taking(suite: Suite, versions: list[str]) -> str:
    """A new destination for dog tax in Kiel (with destination b's key) taking these metadata versions."""
    destination_id = f"{suite.prefix}meta-{uuid.uuid4().hex[:8]}"
    await suite.bus.publish(
        DestinationChanged(
            destination_id=destination_id,
            status="active",
            name="Amt Metadaten",
            authority_id="auth-metadata",
            zustellkanal=Zustellkanal(channel_type="webservice", url="http://127.0.0.1:9/kop/meta"),
            encryption_kid=str(suite.keys.dest_b.kid),
            encryption_key=suite.keys.public(suite.keys.dest_b),
            services=[LEIKA_DOG],
            reply_channels=["eMail"],
            metadata_versions=versions,
            area_ars=ARS_KIEL,
        )
    )
    await suite.wait_for_destination(destination_id)
    return destination_id


async def apply_to(suite: Suite, destination_id: str, **extra: Any) -> httpx.Response:
    """An application for dog tax routed to `destination_id` by a route zufi signed."""
    body = {
        "leikaKey": LEIKA_DOG,
        "destinationSignature": suite.zufi.sign(destination_id, LEIKA_DOG, ARS_KIEL),
        "applicant": APPLICANT,
        "formData": DOG_FORM_DATA,
    }
    return await suite.http.post("/v1/applications", json=body | extra, headers=await suite.auth("sender"))


async def ready_metadata(suite: Suite, submission_id: str, key: RSAKey | None = None) -> dict[str, Any]:
    """The metadata of the application as forwarded, after `Suite.metadata` checked it."""
    ready = await suite.bus.expect(
        "submission.ready_for_delivery", lambda e: e["submission_id"] == submission_id
    )
    return suite.metadata(ready["encrypted_metadata"], key)


async def test_a_destination_taking_the_default_versions_gets_2_1_0(suite: Suite) -> None:
    described = await suite.http.get(f"/v1/destinations/{suite.dest_a}", headers=await suite.auth("sender"))
    assert described.json()["metadataVersions"] == ["2.1.0", "1.0.0"]

    body = {
        "leikaKey": LEIKA_DOG,
        "ars": ARS_KIEL,
        "applicant": APPLICANT,
        "formData": DOG_FORM_DATA,
        "replyChannel": MAILBOX,
        "senderReference": "portal-metadata-1",
    }
    answer = await suite.http.post(
        "/v1/applications",
        data={"application": json.dumps(body)},
        files=[("attachments", ("nachweis.pdf", b"%PDF-1.7 test", "application/pdf"))],
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 201, answer.text
    written = await ready_metadata(suite, answer.json()["submissionId"])
    assert written["$schema"] == "https://schema.fitko.de/fit-connect/metadata/2.1.0/metadata.schema.json"
    assert written["replyChannel"] == MAILBOX
    assert written["additionalReferenceInfo"]["senderReference"] == "portal-metadata-1"
    assert [a["filename"] for a in written["contentStructure"]["attachments"]] == ["nachweis.pdf"]


async def test_a_destination_still_asking_for_1_0_0_gets_1_0_0(suite: Suite) -> None:
    destination_id = await destination_taking(suite, ["1.0.0"])
    described = await suite.http.get(f"/v1/destinations/{destination_id}", headers=await suite.auth("sender"))
    assert described.json()["metadataVersions"] == ["1.0.0"]

    answer = await apply_to(suite, destination_id, replyChannel=E_MAIL)
    assert answer.status_code == 201, answer.text
    written = await ready_metadata(suite, answer.json()["submissionId"], key=suite.keys.dest_b)
    assert written["$schema"] == "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"
    assert written["replyChannel"] == E_MAIL


async def test_metadata_that_would_not_conform_is_refused_with_what_is_wrong(suite: Suite) -> None:
    for reply_channel, param in (
        ({"eMail": {}}, "replyChannel.eMail"),
        ({"eMail": {"address": "not an address"}}, "replyChannel.eMail.address"),
        (E_MAIL | MAILBOX, "replyChannel"),
        ({"idBundDeMailbox": {"mailboxUuid": "nope"}}, "replyChannel.idBundDeMailbox.mailboxUuid"),
    ):
        answer = await apply_to(suite, suite.dest_a, replyChannel=reply_channel)
        body = problem(answer, 422, "metadata-invalid")
        assert param in {p["name"] for p in body["invalid_params"]}, body

    corrected = await apply_to(suite, suite.dest_a, replyChannel=E_MAIL)
    assert corrected.status_code == 201, corrected.text


async def test_a_destination_taking_no_version_the_suite_writes_is_refused(suite: Suite) -> None:
    destination_id = await destination_taking(suite, ["1.2.0"])
    answer = await apply_to(suite, destination_id)
    problem(answer, 422, "metadata-version-not-taken")

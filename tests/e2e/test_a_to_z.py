"""A to Z with every service as its own process on Kafka and PostgreSQL, and what can go wrong.

(a) the demo's flow (route lookup, form, payment on the checkout page, delivery, acceptance, status,
reply with a PDF in the mailbox); (b) a cancelled payment; (c) an authority that rejects; (d) an
authority that is down for a while; (e) no personal data in any service's log.
"""

import argparse
import asyncio
import functools
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest

from ozg_common import security_events
from ozg_common.security_events import SecurityEvent
from ozg_common.settings import PROJECT_ROOT
from ozg_testing.suite_harness import Suite

GEWERBEANMELDUNG = "99050035001000"
HUND_ANMELDEN = "99110007000000"
FISCHEREISCHEIN = "99088023001000"
WESTENSEE = "24259"

Router = Callable[..., Awaitable[dict[str, Any]]]

# Every personal value the tests send; scenario (e) looks for them in the logs.
PERSONAL_VALUES: set[str] = {"Mustermann", "erika.mustermann@example.org"}
SECRET_SETTINGS = ("_SECRET", "_PASSWORD", "_API_KEY", "_ENCRYPTION_KEY", "_TOKEN")
"""How the names of secret settings end (webhook master secret, client secrets, SMTP password, ...)."""
PRIVATE_KEY_MEMBERS = ("d", "p", "q")


@dataclass
class Citizen:
    """A person with a BundID login and a mailbox, sending one application."""

    given_name: str
    family_name: str
    email: str
    headers: dict[str, str]
    mailbox_uuid: str


def demo_args(suite: Suite, leika_key: str, postal_code: str) -> argparse.Namespace:
    return argparse.Namespace(
        zufi_url=suite.url("zufi"),
        submission_url=suite.url("submission"),
        kop_gateway_url=suite.url("kop-gateway"),
        payment_url=suite.url("payment"),
        mailbox_url=suite.url("mailbox"),
        receiver_url=suite.url("demo-receiver"),
        leika_key=leika_key,
        postal_code=postal_code,
        ags="",
        originator_id="ozg-router-e2e",
        clients_file=str(suite.clients_file),
        timeout=60,
    )


def token(demo: ModuleType, http: httpx.Client, suite: Suite, scope: str) -> str:
    return str(demo.access_token(http, suite.url("submission"), suite.client(scope)))


def citizen(demo: ModuleType, http: httpx.Client, suite: Suite) -> Citizen:
    """A new citizen: logged in on the mailbox web page at the OIDC provider, mailbox opened."""
    tag = uuid.uuid4().hex[:8]
    person = Citizen("Zofia", f"Kowalczyk{tag}", f"zofia.{tag}@example.org", {}, "")
    PERSONAL_VALUES.update({person.family_name, person.email})
    person.headers = demo.bearer(demo.citizen_login(suite.url("mailbox"), f"e2e-{tag}", email=person.email))
    mailbox = demo.expect(http.get(f"{suite.url('mailbox')}/v1/mailbox", headers=person.headers), 200)
    person.mailbox_uuid = mailbox["mailboxUuid"]
    return person


def submit(
    demo: ModuleType, http: httpx.Client, suite: Suite, person: Citizen, leika_key: str, found: dict[str, Any]
) -> dict[str, Any]:
    """The native form sends the citizen's application; its personal values are remembered."""
    service = demo.expect(http.get(f"{suite.url('zufi')}/v1/services/{leika_key}"), 200)
    form = demo.example_value(service.get("formSchema") or {"type": "object"})
    for key, value in form.items():
        if isinstance(value, str) and value.startswith("Muster"):
            form[key] = f"{value} {uuid.uuid4().hex[:6]}"
            PERSONAL_VALUES.add(form[key])
    application = {
        "leikaKey": leika_key,
        "destinationSignature": found["destinationSignature"],
        "applicant": {
            "givenName": person.given_name,
            "familyName": person.family_name,
            "email": person.email,
        },
        "formData": form,
        "replyChannel": {"idBundDeMailbox": {"mailboxUuid": person.mailbox_uuid}},
    }
    answer = http.post(
        f"{suite.url('submission')}/v1/applications",
        json=application,
        headers=demo.bearer(token(demo, http, suite, "send")),
    )
    submitted: dict[str, Any] = demo.expect(answer, 201)
    return submitted


def eventually(demo: ModuleType, what: str, probe: Any, timeout: float = 60) -> Any:
    return demo.Demo(timeout).wait_for(what, probe)


def submission_answer(
    demo: ModuleType, http: httpx.Client, suite: Suite, submission_id: str
) -> dict[str, Any]:
    """What the sender sees at the application's status URL."""
    answer = http.get(
        f"{suite.url('submission')}/v1/applications/{submission_id}",
        headers=demo.bearer(token(demo, http, suite, "send")),
    )
    found: dict[str, Any] = demo.expect(answer, 200)
    return found


def submission_status(demo: ModuleType, http: httpx.Client, suite: Suite, submission_id: str) -> str:
    return str(submission_answer(demo, http, suite, submission_id)["status"])


def receiver_application(http: httpx.Client, suite: Suite, submission_id: str) -> dict[str, Any] | None:
    answer = http.get(f"{suite.url('demo-receiver')}/api/applications/{submission_id}")
    return answer.json() if answer.status_code == 200 else None


def mailbox_entry(
    demo: ModuleType, http: httpx.Client, suite: Suite, person: Citizen, case_id: str, **expected: Any
) -> dict[str, Any] | None:
    """The citizen's application for the case, once it shows every expected field."""
    page = demo.expect(
        http.get(f"{suite.url('mailbox')}/v1/mailbox/applications", headers=person.headers), 200
    )
    for application in page["applications"]:
        if application["reference"] == case_id and all(application.get(k) == v for k, v in expected.items()):
            found: dict[str, Any] = application
            return found
    return None


def mailbox_message(
    demo: ModuleType, http: httpx.Client, suite: Suite, person: Citizen, case_id: str, title: str
) -> dict[str, Any] | None:
    page = demo.expect(http.get(f"{suite.url('mailbox')}/v1/mailbox/messages", headers=person.headers), 200)
    for message in page["messages"]:
        if message["reference"] == case_id and title in message["title"]:
            found: dict[str, Any] = message
            return found
    return None


def control(http: httpx.Client, suite: Suite, **update: Any) -> dict[str, Any]:
    answer = http.post(f"{suite.url('demo-receiver')}/_control", json={"reset": True, **update})
    answer.raise_for_status()
    state: dict[str, Any] = answer.json()
    return state


async def test_a_to_z_the_demo_walks_one_application_through_every_service(
    suite: Suite, route: Router
) -> None:
    await route(GEWERBEANMELDUNG, postalCode=WESTENSEE)
    args = demo_args(suite, GEWERBEANMELDUNG, WESTENSEE)
    urls = [f"--{name.replace('_', '-')}={value}" for name, value in vars(args).items() if value != ""]
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(PROJECT_ROOT / "deploy" / "demo" / "demo.py"),
        *urls,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    print(output.decode(), f"(demo took {time.monotonic() - began:.1f} s)")
    assert process.returncode == 0, output.decode()[-3000:]


async def test_a_to_z_the_application_reached_the_authority_exactly_once(
    suite: Suite, http: httpx.AsyncClient
) -> None:
    listing = (await http.get(f"{suite.url('demo-receiver')}/api/applications")).json()
    assert [a["deliveries"] for a in listing["applications"] if a["leikaKey"] == GEWERBEANMELDUNG] == [1]


def cancelled_payment(demo: ModuleType, suite: Suite, found: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(timeout=30) as http:
        person = citizen(demo, http, suite)
        submitted = submit(demo, http, suite, person, GEWERBEANMELDUNG, found)
        case_id, submission_id = submitted["caseId"], submitted["submissionId"]
        args = demo_args(suite, GEWERBEANMELDUNG, WESTENSEE)
        sender = token(demo, http, suite, "send")
        payment = demo.pay(http, demo.Demo(60), args, sender, found, case_id, aktion="abbrechen")
        shown = eventually(
            demo,
            "the cancelled payment in the mailbox",
            functools.partial(mailbox_entry, demo, http, suite, person, case_id, paymentStatus="CANCELED"),
        )
        notice = eventually(
            demo,
            "the notice about the cancelled payment",
            functools.partial(mailbox_message, demo, http, suite, person, case_id, "Zahlung abgebrochen"),
        )
        final = eventually(
            demo,
            "submission to note the cancelled payment",
            lambda: (
                (a := submission_answer(demo, http, suite, submission_id))["payment"]["status"] == "CANCELED"
                and a
            ),
        )
        time.sleep(3)  # long enough for a delivery that should not happen
        return {
            "submitted": submitted,
            "payment": payment,
            "mailbox": shown,
            "notice": notice,
            "final": final,
            "receiver": receiver_application(http, suite, submission_id),
        }


@pytest.fixture(scope="module")
async def cancelled(suite: Suite, route: Router, demo: ModuleType) -> dict[str, Any]:
    found = await route(GEWERBEANMELDUNG, postalCode=WESTENSEE)
    seen: dict[str, Any] = await asyncio.to_thread(cancelled_payment, demo, suite, found)
    return seen


def test_a_cancelled_payment_is_not_delivered(cancelled: dict[str, Any]) -> None:
    # submission keeps it awaiting payment (the citizen may pay again; retention ends it otherwise)
    assert (cancelled["payment"]["status"], cancelled["final"]["status"], cancelled["receiver"]) == (
        "CANCELED",
        "awaiting_payment",
        None,
    )


def test_the_citizen_reads_why_the_cancelled_application_was_not_forwarded(cancelled: dict[str, Any]) -> None:
    assert (cancelled["mailbox"]["paymentStatus"], cancelled["notice"]["title"]) == (
        "CANCELED",
        "Zahlung abgebrochen",
    )


def rejected_application(demo: ModuleType, suite: Suite, found: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(timeout=30) as http:
        control(http, suite, rejectLeikaKeys=[FISCHEREISCHEIN])
        try:
            person = citizen(demo, http, suite)
            submitted = submit(demo, http, suite, person, FISCHEREISCHEIN, found)
            case_id, submission_id = submitted["caseId"], submitted["submissionId"]
            at_receiver = eventually(
                demo,
                "the rejection by the authority",
                lambda: (a := receiver_application(http, suite, submission_id)) and a["rejectedAt"] and a,
            )
            final = eventually(
                demo,
                "submission to record the rejection",
                lambda: (
                    ((s := submission_status(demo, http, suite, submission_id)) == "rejected" and s) or None
                ),
            )
            shown = eventually(
                demo,
                "the rejection in the mailbox",
                functools.partial(mailbox_entry, demo, http, suite, person, case_id, outcome="rejected"),
            )
        finally:
            control(http, suite)
        return {"receiver": at_receiver, "final": final, "mailbox": shown}


async def test_an_authority_that_rejects_shows_rejected_in_submission_and_mailbox(
    suite: Suite, route: Router, demo: ModuleType
) -> None:
    found = await route(FISCHEREISCHEIN, postalCode=WESTENSEE)
    seen = await asyncio.to_thread(rejected_application, demo, suite, found)
    assert (seen["receiver"]["stage"], seen["final"], seen["mailbox"]["outcome"]) == (
        "rejected",
        "rejected",
        "rejected",
    )


def accepted_log(demo: ModuleType, suite: Suite, found: dict[str, Any]) -> list[SecurityEvent]:
    """The event log of an application the authority accepted at kop-gateway's return channel, each
    SET verified with the keys submission and kop-gateway publish."""
    with httpx.Client(timeout=30) as http:
        service = demo.expect(http.get(f"{suite.url('zufi')}/v1/services/{HUND_ANMELDEN}"), 200)
        application = {
            "leikaKey": HUND_ANMELDEN,
            "destinationSignature": found["destinationSignature"],
            "applicant": {"givenName": "Erika", "familyName": "Mustermann"},
            "formData": demo.example_value(service.get("formSchema") or {"type": "object"}),
        }
        sender = demo.bearer(token(demo, http, suite, "send"))
        answer = http.post(f"{suite.url('submission')}/v1/applications", json=application, headers=sender)
        submitted = demo.expect(answer, 201)
        eventually(
            demo,
            "submission to record the acceptance",
            lambda: submission_status(demo, http, suite, submitted["submissionId"]) == "accepted" or None,
        )
        published = [
            key
            for service in ("submission", "kop-gateway")
            for key in demo.expect(http.get(f"{suite.url(service)}/.well-known/jwks.json"), 200)["keys"]
        ]
        answer = http.get(f"{suite.url('submission')}/v1/cases/{submitted['caseId']}/events", headers=sender)
        return [security_events.verify(t, {"keys": published}) for t in demo.expect(answer, 200)["eventLog"]]


async def test_an_acceptance_at_the_return_channel_is_logged_as_kop_gateways(
    suite: Suite, route: Router, demo: ModuleType
) -> None:
    """Nobody signs in another's name: the authority has no signing key, kop-gateway vouches for it."""
    found = await route(HUND_ANMELDEN, postalCode=WESTENSEE)
    log = await asyncio.to_thread(accepted_log, demo, suite, found)
    assert [(event.event, event.issuer) for event in log] == [
        ("create-submission", suite.url("submission")),
        ("submit-submission", suite.url("submission")),
        ("accept-submission", suite.url("kop-gateway")),
    ]
    assert log[-1].details["authenticationTags"] == log[1].details["authenticationTags"]


def outage(demo: ModuleType, suite: Suite, found: dict[str, Any], seconds: float) -> dict[str, Any]:
    with httpx.Client(timeout=30) as http:
        down = control(http, suite, failForSeconds=seconds)
        person = citizen(demo, http, suite)
        submitted = [submit(demo, http, suite, person, HUND_ANMELDEN, found) for _ in range(3)]
        time.sleep(seconds / 2)
        during = [receiver_application(http, suite, s["submissionId"]) for s in submitted]
        after = [
            eventually(
                demo,
                "the delivery after the outage",
                functools.partial(receiver_application, http, suite, s["submissionId"]),
            )
            for s in submitted
        ]
        failed = http.get(f"{suite.url('demo-receiver')}/_control").json()["failedTotal"]
        return {"down_until": down["failUntil"], "during": during, "after": after, "failed": failed}


async def test_an_authority_down_for_a_while_gets_each_application_once_after_recovery(
    suite: Suite, route: Router, demo: ModuleType
) -> None:
    found = await route(HUND_ANMELDEN, postalCode=WESTENSEE)
    seen = await asyncio.to_thread(outage, demo, suite, found, 6.0)
    assert seen["during"] == [None, None, None]
    assert seen["failed"] >= 3
    assert [a["deliveries"] for a in seen["after"]] == [1, 1, 1]
    assert min(a["receivedAt"] for a in seen["after"]) > time.strftime(
        "%Y-%m-%dT%H:%M:%S", time.gmtime(seen["down_until"])
    )


def test_no_personal_data_in_any_log(suite: Suite) -> None:
    logs = suite.logs()
    assert all(logs.values()), "every service wrote a log"
    leaks = {
        (name, value) for name, text in logs.items() for value in sorted(PERSONAL_VALUES) if value in text
    }
    assert leaks == set()


def test_no_secret_in_any_log(suite: Suite) -> None:
    """No secret setting, client secret or private key of the run shows in a log, even in part."""
    secret_values = {
        value
        for process in suite.processes.values()
        for name, value in process.env.items()
        if name.startswith("OZG_") and name.endswith(SECRET_SETTINGS) and value
    }
    secret_values |= {client["client_secret"] for client in suite.clients}
    for key_file in suite.run_dir.glob("*keys/*.json"):
        jwk = json.loads(key_file.read_text())
        secret_values |= {jwk[member] for member in PRIVATE_KEY_MEMBERS}
    assert len(secret_values) >= 12, "the run's secrets were found"
    logs = suite.logs()
    # 16 characters suffice to tell a secret apart; a log line may quote a secret cut short.
    leaks = {
        (name, value[:8]) for name, text in logs.items() for value in secret_values if value[:16] in text
    }
    assert leaks == set()

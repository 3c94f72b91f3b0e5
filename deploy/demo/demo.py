"""`make demo`: one application from A to Z against a running `make run`, step by step.

Route lookup (zufi) → citizen login and mailbox → form submission (submission) → payment through the
simulated checkout (payment) → delivery to the Fachverfahren (demo receiver) → acceptance, status
updates and the reply with its PDF in the citizen's mailbox. Every step prints its ids and how long
it took; a step that does not happen within the timeout ends the demo with exit code 1.
"""

import argparse
import base64
import functools
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class StepFailed(Exception):
    """A step did not happen; the message says what was expected and what came instead."""


class Demo:
    """Prints the steps and keeps the clock."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.started = time.monotonic()
        self.number = 0

    @contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.number += 1
        print(f"\n[{self.number}] {title}", flush=True)
        began = time.monotonic()
        try:
            yield
        except StepFailed as exc:
            raise StepFailed(f"step {self.number} ({title}): {exc}") from exc
        except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
            raise StepFailed(f"step {self.number} ({title}): {exc!r}") from exc
        took = time.monotonic() - began
        print(f"    ✓ {took:.2f} s (total {time.monotonic() - self.started:.2f} s)", flush=True)

    @staticmethod
    def show(label: str, value: object) -> None:
        print(f"    {label:<22} {value}", flush=True)

    def wait_for(self, what: str, probe: Callable[[], T | None], *, interval: float = 0.25) -> T:
        """Poll `probe` until it returns something; fail the step after the timeout."""
        deadline = time.monotonic() + self.timeout
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise StepFailed(f"{what} did not happen within {self.timeout:.0f} s")
            time.sleep(interval)


def expect_status(answer: httpx.Response, *statuses: int) -> httpx.Response:
    """The answer itself (a redirect, a page) if its status is one of the expected, else a clear failure."""
    if answer.status_code not in statuses:
        raise StepFailed(
            f"{answer.request.method} {answer.request.url} answered {answer.status_code}: {answer.text[:500]}"
        )
    return answer


def expect(answer: httpx.Response, *statuses: int) -> Any:
    """The JSON of an answer with one of the expected statuses, else a clear failure."""
    expect_status(answer, *statuses)
    return answer.json() if answer.content else None


def client_with_scope(clients: list[dict[str, Any]], scope: str) -> dict[str, Any]:
    for client in clients:
        if scope in client.get("scopes", []):
            return client
    raise StepFailed(f"no client with scope {scope!r} in the bootstrap clients file")


def access_token(http: httpx.Client, submission: str, client: dict[str, Any]) -> str:
    form = {
        "grant_type": "client_credentials",
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
    }
    return str(expect(http.post(f"{submission}/token", data=form), 200)["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def example_value(schema: dict[str, Any], name: str = "") -> Any:
    """A plausible value for a JSON Schema (the form a citizen would fill in)."""
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for combinator in ("oneOf", "anyOf", "allOf"):
        if schema.get(combinator):
            return example_value(schema[combinator][0], name)
    kind = schema.get("type", "object")
    kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
    if kind == "object":
        properties: dict[str, Any] = schema.get("properties", {})
        return {key: example_value(sub, key) for key, sub in properties.items()}
    if kind == "array":
        return [example_value(schema.get("items", {}), name)] * max(schema.get("minItems", 1), 1)
    if kind == "boolean":
        return True
    if kind in {"integer", "number"}:
        return max(schema.get("minimum", 1), 1)
    formats = {"date": date.today().isoformat(), "email": "erika.mustermann@example.org"}
    if schema.get("format") in formats:
        return formats[schema["format"]]
    text = "Muster " + (name or "Angabe")
    return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 0), "x")


class FormFinder(HTMLParser):
    """The checkout page's form: its action and fields (the simulated provider works without JS)."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and not self.action:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("name") and values.get("type") not in {"submit", "radio"}:
            self.fields[values["name"]] = values.get("value", "")


def run(args: argparse.Namespace) -> None:
    demo = Demo(args.timeout)
    clients: list[dict[str, Any]] = json.loads(Path(args.clients_file).read_text())
    with httpx.Client(timeout=30) as http:
        with demo.step("The suite is up"):
            for name, url in vars(args).items():
                if name.endswith("_url"):
                    try:
                        expect(http.get(f"{url}/healthz"), 200)
                    except httpx.HTTPError as exc:
                        raise StepFailed(
                            f"{name.removesuffix('_url')} at {url} is not reachable ({exc})"
                        ) from exc
                    demo.show(name.removesuffix("_url"), url)

        with demo.step("A token for the online service (sender)"):
            sender = client_with_scope(clients, "send")
            sender_token = access_token(http, args.submission_url, sender)
            demo.show("sender client", sender["client_id"])

        with demo.step(f"Route lookup: LeiKa {args.leika_key} in postal code {args.postal_code}"):
            service = expect(http.get(f"{args.zufi_url}/v1/services/{args.leika_key}"), 200)
            query = {"leikaKey": args.leika_key, "postalCode": args.postal_code}
            routes = expect(http.get(f"{args.zufi_url}/v1/routes", params=query), 200)
            if not routes["routes"]:
                raise StepFailed(f"zufi knows no destination for {query}")
            route = routes["routes"][0]
            demo.show("service", service.get("name"))
            demo.show("destinationId", route["destinationId"])
            demo.show("authority", route.get("destinationName"))
            demo.show("payment required", service.get("paymentRequired"))

        with demo.step("The citizen logs in at the OIDC provider and opens the mailbox"):
            subject = f"demo-{uuid.uuid4()}"
            citizen_headers = bearer(citizen_login(args.mailbox_url, subject))
            mailbox = expect(http.get(f"{args.mailbox_url}/v1/mailbox", headers=citizen_headers), 200)
            demo.show("subject", subject)
            demo.show("mailboxUuid", mailbox["mailboxUuid"])

        with demo.step("The form is submitted (native intake)"):
            application = {
                "leikaKey": args.leika_key,
                "destinationSignature": route["destinationSignature"],
                "applicant": {
                    "givenName": "Erika",
                    "familyName": "Mustermann",
                    "email": "erika.mustermann@example.org",
                },
                "formData": example_value(service.get("formSchema") or {"type": "object"}),
                "replyChannel": {"idBundDeMailbox": {"mailboxUuid": mailbox["mailboxUuid"]}},
            }
            submitted = expect(
                http.post(
                    f"{args.submission_url}/v1/applications", json=application, headers=bearer(sender_token)
                ),
                201,
            )
            case_id, submission_id = submitted["caseId"], submitted["submissionId"]
            demo.show("submissionId", submission_id)
            demo.show("caseId", case_id)
            demo.show("status", submitted["status"])

        if submitted["status"] == "awaiting_payment":
            pay(http, demo, args, sender_token, route, case_id)

        with demo.step("Delivered to the Fachverfahren (signed KOP POST, verified, stored)"):
            received = demo.wait_for(
                "the delivery to the demo receiver",
                lambda: probe_receiver(http, args.receiver_url, submission_id, lambda a: True),
            )
            demo.show("deliveries", received["deliveries"])
            demo.show("received at", received["receivedAt"])

        with demo.step("The authority decrypts, validates (XSD) and accepts"):
            accepted = demo.wait_for(
                "the acceptance",
                lambda: probe_receiver(
                    http,
                    args.receiver_url,
                    submission_id,
                    lambda a: a["acceptedAt"] or a["stage"] == "rejected",
                ),
            )
            if accepted["stage"] == "rejected":
                raise StepFailed(f"the authority rejected the application: {accepted['problems']}")
            demo.show("data valid", accepted["dataValid"])
            demo.show("accepted at", accepted["acceptedAt"])

        for status in ("PROCESSING", "COMPLETED"):
            with demo.step(f"The citizen's status monitor shows {status}"):
                shown = demo.wait_for(
                    f"status {status} in the mailbox",
                    functools.partial(
                        mailbox_application, http, args.mailbox_url, citizen_headers, case_id, status
                    ),
                )
                demo.show("status", shown["status"])
                demo.show("steps", " → ".join(s["status"] for s in shown.get("steps", [])))

        with demo.step("The reply with the PDF is in the citizen's mailbox"):
            message = demo.wait_for(
                "the reply in the mailbox",
                lambda: mailbox_reply(http, args.mailbox_url, citizen_headers, case_id),
            )
            demo.show("messageId", message["messageId"])
            demo.show("title", message["title"])
            for attachment in message.get("attachments", []):
                demo.show(
                    "attachment",
                    f"{attachment['filename']} ({attachment['mimeType']}, {attachment['length']} B)",
                )

    took = time.monotonic() - demo.started
    print(f"\nA to Z in {took:.1f} s. See {args.receiver_url}/ and {args.mailbox_url}/web/")


def pay(
    http: httpx.Client,
    demo: Demo,
    args: argparse.Namespace,
    sender_token: str,
    route: dict[str, Any],
    case_id: str,
    aktion: str = "bezahlen",
) -> dict[str, Any]:
    """XBezahldienste: open the transaction, pay on the simulated checkout page, confirm by a status GET.

    `aktion` is the citizen's button on the checkout page: bezahlen, abbrechen or fehlschlag.
    """
    outcome = CHECKOUT_OUTCOMES[aktion]
    with demo.step("Payment: the transaction is opened"):
        fees = expect(
            http.get(f"{args.payment_url}/v1/fees/{args.leika_key}", headers=bearer(sender_token)), 200
        )
        items = fees["items"]
        amount = sum(float(i["price"]) * int(i.get("quantity", 1)) for i in items)
        end_point = args.ags or route_ags(route)
        request = {
            "requestId": str(uuid.uuid4()),
            "requestTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "currency": "EUR",
            "amount": f"{amount:.2f}",
            "purpose": fees["name"][:27],
            "description": f"Gebühr {fees['name']}"[:250],
            "redirectUrl": f"{args.receiver_url}/",
            "items": items,
            "caseId": case_id,
            "leikaKey": args.leika_key,
        }
        base = f"{args.payment_url}/paymenttransaction/{args.originator_id}/{end_point}"
        created = expect(http.post(base, json=request, headers=bearer(sender_token)), 201)
        info = created["paymentInformation"]
        demo.show("transactionId", info["transactionId"])
        demo.show("Kassenzeichen", info.get("transactionReference"))
        demo.show("amount", f"{amount:.2f} EUR")

    with demo.step(f"Payment: the citizen chooses {aktion!r} on the checkout page"):
        page = http.get(info["transactionRedirectUrl"])
        if page.status_code != 200:
            raise StepFailed(f"checkout page answered {page.status_code}")
        form = FormFinder()
        form.feed(page.text)
        action = urljoin(str(page.url), form.action or str(page.url))
        answer = http.post(action, data={**form.fields, "aktion": aktion, "zahlungsart": "CREDITCARD"})
        hops = 0
        while (
            answer.is_redirect
            and hops < 5
            and not str(answer.headers["location"]).startswith(args.receiver_url)
        ):
            answer = http.get(urljoin(str(answer.url), answer.headers["location"]))
            hops += 1
        demo.show("back at", answer.headers.get("location", str(answer.url)))

    with demo.step(f"Payment: confirmed server-side (status GET), {outcome}"):
        url = f"{base}/{info['transactionId']}"

        def settled() -> dict[str, Any] | None:
            status = expect(http.get(url, headers=bearer(sender_token)), 200)["paymentInformation"]
            if status["status"] in {"PAYED", "CANCELED", "FAILED"} - {outcome}:
                raise StepFailed(f"the payment ended {status['status']}")
            return status if status["status"] == outcome else None

        status = demo.wait_for("the payment", settled)
        demo.show("status", status["status"])
        demo.show("paymentMethod", status.get("paymentMethod"))
    return status


CHECKOUT_OUTCOMES = {"bezahlen": "PAYED", "abbrechen": "CANCELED", "fehlschlag": "FAILED"}
"""The checkout page's buttons and the transaction status each ends in."""


def citizen_login(mailbox_url: str, subject: str, email: str = "erika.mustermann@example.org") -> str:
    """Sign in on the mailbox web page through the provider's login page, as a browser would
    (authorization code flow with PKCE); returns the access token the web session holds, which the
    mailbox API takes as well."""
    with httpx.Client(base_url=mailbox_url, timeout=30.0) as browser:
        start = expect_status(browser.get("/web/auth/start", params={"next": "/web/"}), 303)
        authorize = start.headers["location"]
        claims = json.dumps(
            {
                "stork_qaa_level": "http://eidas.europa.eu/LoA/substantial",
                "email": email,
            }
        )
        back = expect_status(browser.post(authorize, data={"username": subject, "claims": claims}), 302)
        expect_status(browser.get(back.headers["location"]), 200)
        expect_status(browser.get("/web/"), 200)
        token = browser.cookies.get("ozg_mailbox_token")
        if not token:
            raise SystemExit("the mailbox web page set no session after the login")
        return str(token)


def route_ags(route: dict[str, Any]) -> str:
    """The AGS of the route's area (ARS without the Gemeindeverband digits), from the signed payload."""
    payload = route["destinationSignature"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    # FITKO's claims name the area as a URN ending in the ARS (`urn:de:bund:destatis:...:rs:<ARS>`).
    [service] = claims["services"]
    ars = str(service["gebietIDs"][0]).rsplit(":", 1)[-1]
    return ars[:5] + ars[9:12] if len(ars) == 12 else ars


def probe_receiver(
    http: httpx.Client, receiver: str, submission_id: str, done: Callable[[dict[str, Any]], Any]
) -> dict[str, Any] | None:
    answer = http.get(f"{receiver}/api/applications/{submission_id}")
    if answer.status_code == 404:
        return None
    application: dict[str, Any] = expect(answer, 200)
    if application["stage"] == "failed":
        raise StepFailed(f"the demo receiver gave up: {application['lastError']}")
    return application if done(application) else None


def mailbox_application(
    http: httpx.Client, mailbox: str, headers: dict[str, str], case_id: str, status: str
) -> dict[str, Any] | None:
    page = expect(http.get(f"{mailbox}/v1/mailbox/applications", headers=headers), 200)
    for application in page["applications"]:
        reached = {s["status"] for s in application.get("steps", [])} | {application["status"]}
        if application["reference"] == case_id and status in reached:
            found: dict[str, Any] = application
            return found
    return None


def mailbox_reply(
    http: httpx.Client, mailbox: str, headers: dict[str, str], case_id: str
) -> dict[str, Any] | None:
    page = expect(http.get(f"{mailbox}/v1/mailbox/messages", headers=headers), 200)
    for summary in page["messages"]:
        if summary["reference"] == case_id and summary["origin"] == "authority":
            message: dict[str, Any] = expect(
                http.get(f"{mailbox}/v1/mailbox/messages/{summary['messageId']}", headers=headers), 200
            )
            pdfs = [a for a in message.get("attachments", []) if a["mimeType"] == "application/pdf"]
            return message if pdfs else None
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--zufi-url", default="http://127.0.0.1:8001")
    parser.add_argument("--submission-url", default="http://127.0.0.1:8002")
    parser.add_argument("--kop-gateway-url", default="http://127.0.0.1:8003")
    parser.add_argument("--payment-url", default="http://127.0.0.1:8004")
    parser.add_argument("--mailbox-url", default="http://127.0.0.1:8005")
    parser.add_argument("--receiver-url", default="http://127.0.0.1:8009")
    parser.add_argument("--leika-key", default="99050035001000", help="Gewerbeanmeldung")
    parser.add_argument(
        "--postal-code",
        default="24259",
        help="Westensee, a Gemeinde in the Amt Achterwehr (Schleswig-Holstein)",
    )
    parser.add_argument("--ags", default="", help="payment endPointId (default: the route's AGS)")
    parser.add_argument("--originator-id", default="ozg-router-demo", help="payment originatorId")
    parser.add_argument("--clients-file", default=str(ROOT / "var" / "clients.json"))
    parser.add_argument("--timeout", type=float, default=60, help="seconds each step may take")
    args = parser.parse_args()
    try:
        run(args)
    except StepFailed as exc:
        print(f"\nDEMO FAILED at {exc}", file=sys.stderr)
        sys.exit(1)
    except (OSError, ValueError) as exc:
        print(f"\nDEMO FAILED before it started: {exc!r}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()

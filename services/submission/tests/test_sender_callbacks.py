"""Sender callbacks over real HTTP: registered with create-submission, called when the submission's
event log grows, signed as FIT-Connect signs callbacks, retried until the sender answers."""

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI, Request, Response
from submission_testkit import Suite, problem
from test_fit_connect import SERVICE_TYPE, accept_of

from ozg_submission.callbacks.repository import DueCallback
from ozg_submission.callbacks.service import SenderCallbacks
from ozg_submission.settings import SubmissionSettings
from ozg_submission.state import SubmissionState
from ozg_testing import serving

NEW_EVENTS = "https://schema.fitko.de/fit-connect/submission-api/callbacks/new-events"
SECRET = "a-sender-callback-secret-" + "x" * 20


@dataclass
class Receiver:
    """A sender's callback endpoint, checking each call from the standard alone (standards.md §1)."""

    base_url: str = ""
    calls: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Per path: the bodies of the calls taken (signature good, 2xx answered)."""
    refused: list[str] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)
    """Per path: how many more calls to answer with 503."""
    retry_after: dict[str, str] = field(default_factory=dict)
    """Per path: the Retry-After those 503 answers carry."""
    attempts: dict[str, int] = field(default_factory=dict)
    attempted_at: dict[str, list[float]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/{path}")
        async def callback(path: str, request: Request) -> Response:
            self.attempts[path] = self.attempts.get(path, 0) + 1
            self.attempted_at.setdefault(path, []).append(time.monotonic())
            if self.failing.get(path, 0) > 0:
                self.failing[path] -= 1
                wait = self.retry_after.get(path)
                return Response(status_code=503, headers={"retry-after": wait} if wait else None)
            body = await request.body()
            timestamp = request.headers.get("callback-timestamp", "")
            offered = request.headers.get("callback-authentication", "")
            expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha512).hexdigest()
            if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
                self.refused.append(f"{path}: stale or missing timestamp {timestamp!r}")
                return Response(status_code=401)
            if not hmac.compare_digest(offered, expected):
                self.refused.append(f"{path}: callback-authentication does not match")
                return Response(status_code=401)
            self.calls.setdefault(path, []).append(json.loads(body))
            return Response(status_code=200)

        return app

    async def called(self, path: str, count: int, within: float = 20) -> list[dict[str, Any]]:
        deadline = time.monotonic() + within
        while len(self.calls.get(path, [])) < count:
            assert time.monotonic() < deadline, f"{path}: {self.calls.get(path)} {self.refused}"
            await asyncio.sleep(0.05)
        return self.calls[path]


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    async with serving(receiver.app()) as base_url:
        receiver.base_url = base_url
        yield receiver


async def announce(suite: Suite, callback: dict[str, Any]) -> Any:
    return await suite.http.post(
        "/v1/submissions",
        json={
            "destinationId": suite.dest_a,
            "announcedAttachments": [],
            "serviceType": SERVICE_TYPE,
            "callback": callback,
        },
        headers=await suite.auth("sender"),
    )


async def submit(suite: Suite, submission_id: str) -> None:
    answer = await suite.http.put(
        f"/v1/submissions/{submission_id}",
        json={"encryptedMetadata": suite.encrypt_for_a(b"{}"), "encryptedData": suite.encrypt_for_a(b"{}")},
        headers=await suite.auth("sender"),
    )
    assert answer.status_code == 200, answer.text


async def test_a_sender_hears_of_each_new_event_on_its_submission(suite: Suite, receiver: Receiver) -> None:
    path = f"sender-{uuid.uuid4()}"
    created = await announce(suite, {"url": receiver.url(path), "secret": SECRET})
    assert created.status_code == 201, created.text
    ids = created.json()
    submission_id, case_id = ids["submissionId"], ids["caseId"]
    assert "secret" not in created.text

    await asyncio.sleep(0.5)
    assert path not in receiver.calls, "its own create-submission is nothing new to the sender"

    await submit(suite, submission_id)
    [first] = await receiver.called(path, 1)
    assert first == {
        "type": NEW_EVENTS,
        "submissionIds": [submission_id],
        "submissions": [{"destinationId": suite.dest_a, "submissionId": submission_id, "caseId": case_id}],
    }

    accept = await accept_of(suite, submission_id, case_id)
    posted = await suite.http.post(
        f"/v1/cases/{case_id}/events",
        content=accept,
        headers={"Content-Type": "application/jose", **await suite.auth("subscriber-a")},
    )
    assert posted.status_code == 204, posted.text
    calls = await receiver.called(path, 2)
    assert calls[-1] == first
    log = (
        await suite.http.get(f"/v1/submissions/{submission_id}/events", headers=await suite.auth("sender"))
    ).json()["eventLog"]
    assert log[-1] == accept, "what the callback announced is in the sender's event log"
    assert not receiver.refused
    await asyncio.sleep(0.5)
    assert len(receiver.calls[path]) == 2, "nothing new, no call"


async def test_a_sender_that_fails_at_first_gets_the_callback_later(suite: Suite, receiver: Receiver) -> None:
    path = f"flaky-{uuid.uuid4()}"
    receiver.failing[path] = 2
    created = await announce(suite, {"url": receiver.url(path), "secret": SECRET})
    assert created.status_code == 201, created.text
    submission_id = created.json()["submissionId"]

    await submit(suite, submission_id)
    [call] = await receiver.called(path, 1)
    assert call["submissionIds"] == [submission_id]
    assert receiver.attempts[path] == 3, "two refused attempts, then the one taken"
    assert not receiver.refused


async def test_a_sender_asking_to_slow_down_is_called_again_when_it_asked(
    suite: Suite, receiver: Receiver
) -> None:
    path = f"busy-{uuid.uuid4()}"
    receiver.failing[path] = 1
    receiver.retry_after[path] = "2"
    created = await announce(suite, {"url": receiver.url(path), "secret": SECRET})
    assert created.status_code == 201, created.text

    await submit(suite, created.json()["submissionId"])
    await receiver.called(path, 1)
    first, second = receiver.attempted_at[path]
    assert second - first >= 1.9, "Retry-After: 2 outweighs the retry schedule's 0.3 s"


@pytest.mark.parametrize(
    ("callback", "detail"),
    [
        ({"url": "ftp://sender.example/callback", "secret": SECRET}, "absolute"),
        ({"url": "/callback", "secret": SECRET}, "absolute"),
        ({"url": "https://user:pw@sender.example/callback", "secret": SECRET}, "credentials"),
        ({"url": "https://10.1.2.3/callback", "secret": SECRET}, "non-public address"),
        ({"url": "https://sender.example:port/callback", "secret": SECRET}, "not a URL"),
        ({"url": "https://sender.example/call back", "secret": SECRET}, "spaces"),
        ({"url": "https://sender.example/callback", "secret": "too-short"}, "at least 32"),
        ({"url": "https://sender.example/callback", "secret": "ä" * 40}, "printable ASCII"),
    ],
)
async def test_unusable_callbacks_are_refused_at_registration(
    suite: Suite, callback: dict[str, Any], detail: str
) -> None:
    answer = await announce(suite, callback)
    assert detail in problem(answer, 422, "callback-invalid")["detail"]


async def test_a_callback_without_secret_is_refused(suite: Suite) -> None:
    answer = await announce(suite, {"url": "https://sender.example/callback"})
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("application/problem+json")


async def call_as_in_production(
    settings: SubmissionSettings, receiver: Receiver, **allowed: Any
) -> str | None:
    """One call to `receiver` by its loopback name, with loopback not allowed (as in production) but
    what `allowed` allows: the name is checked as it resolves at the call. The failure, if any."""
    production = settings.model_copy(update={"callback_allow_loopback": False, **allowed})
    state = SubmissionState.build(production)
    worker = SenderCallbacks(state)
    path = f"internal-{uuid.uuid4()}"
    try:
        failure = await worker.call(
            DueCallback(
                submission_id=uuid.uuid4(),
                destination_id="d",
                case_id=uuid.uuid4(),
                url=f"http://localhost:{urlsplit(receiver.base_url).port}/{path}",
                secret=SECRET,
                entries=2,
                failures=0,
                failing_since=None,
            )
        )
    finally:
        await state.zufi.close()
    assert (path in receiver.attempts) is (failure is None)
    return None if failure is None else failure.error


async def test_a_host_name_resolving_to_a_non_public_address_is_not_called(
    settings: SubmissionSettings, receiver: Receiver
) -> None:
    error = await call_as_in_production(settings, receiver)
    assert error is not None
    assert "non-public address" in error


async def test_an_allowed_host_is_called_although_it_is_not_public(
    settings: SubmissionSettings, receiver: Receiver
) -> None:
    assert await call_as_in_production(settings, receiver, callback_allowed_hosts=["localhost"]) is None

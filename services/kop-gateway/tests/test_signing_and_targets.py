"""The signing kit receivers use (ozg_common.webhooks) and the SSRF guard as the gateway's settings
and resolver use it, without the network."""

import time

import pytest
from kop_testkit import ENCRYPTION_KEY, MASTER_SECRET
from pydantic import ValidationError

from ozg_common.webhooks import (
    TargetRefused,
    WebhookVerificationError,
    derive_destination_secret,
    fit_connect_signature,
    generate_secret,
    parse_retry_after,
    sign_fit_connect_callback,
    sign_standard_webhook,
    standard_webhook_signature,
    verify_fit_connect_callback,
    verify_standard_webhook,
)
from ozg_kop_gateway.deliveries.policy import RetryPolicy
from ozg_kop_gateway.deliveries.targets import GuardedResolver, target_guard
from ozg_kop_gateway.settings import KopGatewaySettings

BODY = b'{"type":"submission"}'


def test_standard_webhooks_known_answer() -> None:
    # The example of the Standard Webhooks specification.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = standard_webhook_signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_standard_webhooks_rotation_and_tolerance() -> None:
    old, new = generate_secret(), generate_secret()
    headers = sign_standard_webhook([new, old], "d-1", BODY)
    assert verify_standard_webhook(old, headers, BODY) == "d-1"
    assert verify_standard_webhook([new], headers, BODY) == "d-1"
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(generate_secret(), headers, BODY)
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(new, headers, BODY + b" ")
    stale = sign_standard_webhook([new], "d-1", BODY, timestamp=int(time.time()) - 301)
    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify_standard_webhook(new, stale, BODY)
    future = sign_standard_webhook([new], "d-1", BODY, timestamp=int(time.time()) + 301)
    with pytest.raises(WebhookVerificationError):
        verify_standard_webhook(new, future, BODY)
    upper = {name.upper(): value for name, value in headers.items()}
    assert verify_standard_webhook(new, upper, BODY) == "d-1"


def test_fit_connect_callback() -> None:
    secret = "a-fit-connect-callback-secret-of-some-length"
    headers = sign_fit_connect_callback(secret, BODY, timestamp=1_700_000_000)
    assert headers["callback-authentication"] == fit_connect_signature(secret, 1_700_000_000, BODY)
    assert len(headers["callback-authentication"]) == 128
    verify_fit_connect_callback(secret, headers, BODY, now=1_700_000_100)
    with pytest.raises(WebhookVerificationError):
        verify_fit_connect_callback(secret, headers, BODY, now=1_700_000_301)
    with pytest.raises(WebhookVerificationError):
        verify_fit_connect_callback("another-secret", headers, BODY, now=1_700_000_000)


def test_derived_secret_is_stable_per_destination() -> None:
    a = derive_destination_secret(MASTER_SECRET, "dest-a")
    assert a.startswith("whsec_")
    assert a == derive_destination_secret(MASTER_SECRET, "dest-a")
    assert a != derive_destination_secret(MASTER_SECRET, "dest-b")


def settings(**overrides: object) -> KopGatewaySettings:
    return KopGatewaySettings(
        signing_master_secret=MASTER_SECRET,
        secret_encryption_key=ENCRYPTION_KEY,
        **overrides,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "fach verfahren.example", "https://kommune.example/"])
def test_an_allowed_host_that_is_neither_name_nor_address_is_refused_at_start(entry: str) -> None:
    with pytest.raises(ValidationError, match="allowed_hosts"):
        settings(allowed_hosts=[entry])


async def test_host_names_are_checked_by_the_resolver_the_client_connects_with() -> None:
    guard = target_guard(settings())
    guard.check("https://localhost/kop")  # the addresses a name has are only known on connect
    refusing = GuardedResolver(guard)
    with pytest.raises(TargetRefused, match="localhost resolves to the non-public address"):
        await refusing.resolve("localhost", 443)
    with pytest.raises(TargetRefused, match="does not resolve"):
        await refusing.resolve("kop.invalid", 443)
    allowed = GuardedResolver(target_guard(settings(allowed_hosts=["localhost"])))
    loopback = GuardedResolver(target_guard(settings(allow_loopback=True)))
    for permitted in (allowed, loopback):
        assert await permitted.resolve("localhost", 443)
    for resolver in (refusing, allowed, loopback):
        await resolver.close()


def test_retry_schedule_and_retry_after() -> None:
    policy = RetryPolicy(schedule=(5, 30, 120), interval=10800, jitter=0.2, max_retry_after=3600)
    assert 4 <= policy.delay(1) <= 6
    assert 24 <= policy.delay(2) <= 36
    assert 8640 <= policy.delay(9) <= 12960
    assert policy.delay(1, retry_after=600) == 600
    assert policy.delay(1, retry_after=10**6) == 3600
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
    assert parse_retry_after("soon") is None

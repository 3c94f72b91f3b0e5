"""A SET's header and claims must each be a base64url JSON object; the error names which is not."""

import base64
import json

import pytest

from ozg_common import security_events
from ozg_common.security_events import InvalidSecurityEvent

HEADER = {"typ": "secevent+jwt", "alg": "PS512", "kid": "k"}


def part(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token(header: bytes, claims: bytes) -> str:
    return f"{part(header)}.{part(claims)}.signature"


@pytest.mark.parametrize(
    ("header", "claims", "error"),
    [
        (b"{not json", b"{}", "the SET's header must be base64url JSON"),
        (b"\xff\xfe", b"{}", "the SET's header must be base64url JSON"),
        (b'["a list"]', b"{}", "the SET's header must be a JSON object"),
        (json.dumps(HEADER).encode(), b"{not json", "the SET's claims must be base64url JSON"),
        (json.dumps(HEADER).encode(), b'"a string"', "the SET's claims must be a JSON object"),
    ],
)
def test_a_part_that_is_no_json_object_is_named(header: bytes, claims: bytes, error: str) -> None:
    with pytest.raises(InvalidSecurityEvent, match=error):
        security_events.read(token(header, claims))


def test_an_unreadable_header_is_refused_before_the_claims_are_read() -> None:
    with pytest.raises(InvalidSecurityEvent, match="the SET's header must be a JSON object"):
        security_events.read_header(token(b"null", b"{not json"))

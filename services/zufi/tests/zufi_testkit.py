"""What several of zufi's test modules check alike."""

from typing import Any

import httpx

PROBLEMS = "https://schema.ozg-router.de/problems/"


def assert_problem(answer: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """The answer is a problem+json of `status` and type `slug`; its body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = dict(answer.json())
    assert body["type"] == PROBLEMS + slug, body
    assert body["status"] == status
    return body

"""`ozg cases trail`: what every service knows about one case, gathered from their admin APIs."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table

from ozg_cli.client import AdminApiError, AdminClient
from ozg_cli.output import console, folded, payments_table

TRAIL_PAGE = 500
"""A case has a handful of deliveries and payments; one page holds them all."""


@dataclass(frozen=True)
class Source:
    """One service's view of a case: where to ask, and how to show the answer to a person."""

    key: str
    service: str
    path: str
    render: Callable[[Any], None]
    by_case: bool = False
    """The case is a query parameter of a listing, not part of the path."""
    params: dict[str, Any] = field(default_factory=dict)


def gather(client: AdminClient, case_id: str) -> dict[str, Any]:
    """Each source's answer, or why there is none (`notFound` or `unavailable`)."""
    trail: dict[str, Any] = {}
    for source in SOURCES:
        params = {**source.params, "caseId": case_id} if source.by_case else source.params
        try:
            trail[source.key] = client.get(source.service, source.path.format(case=case_id), **params)
        except AdminApiError as exc:
            outcome = "notFound" if exc.status == 404 else "unavailable"
            trail[source.key] = {outcome: str(exc)}
    return trail


def show(trail: dict[str, Any]) -> None:
    for source in SOURCES:
        answer = trail[source.key]
        console.rule(source.key)
        if "notFound" in answer:
            console.print(f"not known there: {answer['notFound']}", style="yellow")
        elif "unavailable" in answer:
            console.print(f"not available: {answer['unavailable']}", style="red")
        else:
            source.render(answer)


def _submission(answer: dict[str, Any]) -> None:
    submissions = Table(
        *folded("submission", "destination", "service", "origin", "status", "last event"),
        title="submissions",
    )
    for row in answer["submissions"]:
        submissions.add_row(
            row["submissionId"],
            row["destinationId"],
            f"{row['leikaKey']} {row['serviceName']}",
            row["origin"],
            row["status"] + (f" ({row['deliveryError']})" if row.get("deliveryError") else ""),
            row["lastEventAt"],
        )
    console.print(submissions)
    events = Table(*folded("recorded", "event", "submission", "issuer", "details"), title="event log")
    for event in answer["events"]:
        claims = event.get("claims") or {}
        details = next(iter((claims.get("events") or {}).values()), None)
        events.add_row(
            event["recordedAt"],
            event["event"],
            event["submissionId"],
            str(claims.get("iss", "")),
            json.dumps(details, ensure_ascii=False) if details else "",
        )
    console.print(events)


def _deliveries(answer: dict[str, Any]) -> None:
    table = Table(
        *folded("delivery", "kind", "destination", "state", "attempts", "last answer", "delivered"),
        title=f"{answer['totalCount']} deliveries",
    )
    for row in answer["deliveries"]:
        last = " ".join(str(part) for part in (row.get("lastStatus"), row.get("lastError")) if part)
        table.add_row(
            row["id"],
            row["kind"],
            row["destinationId"],
            row["state"],
            str(row["attemptCount"]),
            last,
            row.get("deliveredAt") or "",
        )
    console.print(table)


def _payments(answer: dict[str, Any]) -> None:
    title = f"{answer['totalCount']} payment transactions"
    console.print(payments_table(answer["transactions"], title, with_case=False))


def _mailbox(answer: dict[str, Any]) -> None:
    payment = answer.get("paymentStatus") or ("required" if answer.get("paymentRequired") else "none")
    console.print(
        f"status {answer['status']}, outcome {answer.get('outcome') or '-'}, payment {payment}, "
        f"citizen's mailbox {'linked' if answer.get('mailboxLinked') else 'not linked'}"
    )
    steps = Table(*folded("occurred", "status"), title="status monitor")
    for step in answer["steps"]:
        steps.add_row(step["occurredAt"], step["status"])
    console.print(steps)
    messages = Table(*folded("created", "from", "title", "read"), title=f"{len(answer['messages'])} messages")
    for message in answer["messages"]:
        messages.add_row(
            message["createdAt"], message["sender"], message["title"], message.get("readAt") or "unread"
        )
    console.print(messages)


SOURCES = [
    Source("submission events", "submission", "/v1/admin/cases/{case}/events", _submission),
    Source(
        "kop-gateway deliveries",
        "kop-gateway",
        "/v1/admin/deliveries",
        _deliveries,
        by_case=True,
        params={"limit": TRAIL_PAGE},
    ),
    Source(
        "payment transactions",
        "payment",
        "/v1/admin/transactions",
        _payments,
        by_case=True,
        params={"limit": TRAIL_PAGE},
    ),
    Source("mailbox application", "mailbox", "/v1/admin/applications/{case}", _mailbox),
]

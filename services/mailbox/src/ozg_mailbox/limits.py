"""Refuse oversized replies before their body is read (the service checks the exact limits)."""

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from ozg_common.problems import problem_response
from ozg_mailbox.errors import ReplyTooLarge
from ozg_mailbox.settings import MailboxSettings

REPLY_PATHS = re.compile(r"^/(v1/mailbox/messages/[^/]+/replies|web/messages/[^/]+/reply)$")
OVERHEAD = 64 * 1024
"""Room for JSON or multipart framing around the allowed content."""


def reply_body_limit(settings: MailboxSettings) -> int:
    base64_bytes = settings.reply_max_total_bytes * 4 // 3 + 4 * settings.reply_max_attachments
    return base64_bytes + 4 * settings.reply_max_content_chars + OVERHEAD


class ReplyBodyLimit:
    """ASGI middleware: a declared Content-Length above the limit gets 413 at once."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and REPLY_PATHS.match(scope["path"]):
            declared = dict(scope["headers"]).get(b"content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.limit:
                error = ReplyTooLarge(f"The request body may have at most {self.limit} bytes.")
                await problem_response(error.to_problem(scope["path"]))(scope, receive, send)
                return
        await self.app(scope, receive, send)

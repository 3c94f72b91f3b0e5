"""A request-body cap for the upload routes, enforced before the body is parsed (413, problem+json)."""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ozg_common.problems import PROBLEM_MEDIA_TYPE
from ozg_kop_gateway.errors import PayloadTooLarge


class BodyLimit:
    """Refuses bodies over `max_bytes` on paths matching `pattern`, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, pattern: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.pattern = re.compile(pattern)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.pattern.fullmatch(scope["path"]):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(scope, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        problem = PayloadTooLarge(f"The request body exceeds {self.max_bytes} bytes.").to_problem(
            scope["path"]
        )
        body = problem.model_dump_json(exclude_none=True).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

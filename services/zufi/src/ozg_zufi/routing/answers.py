"""Finished `/v1/routes` answers, kept per query string for as long as the routing index is unchanged.

Resolving a route is a few dictionary lookups; FastAPI parsing and validating its seven query
parameters and serializing the page costs several times that. A repeated query (the same
leikaKey and place, as every application from one Gemeinde asks) is answered with the bytes the
endpoint produced the first time. Only 200 answers are kept, so every error is answered afresh;
rate limiting and metrics wrap every path alike.
"""

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

JSON = "application/json"


class RouteAnswers:
    """The newest `capacity` answer bodies of one index version (LRU); a newer version empties it."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.version = 0
        self._bodies: OrderedDict[bytes, bytes] = OrderedDict()

    def get(self, version: int, query: bytes) -> bytes | None:
        if version != self.version:
            return None
        body = self._bodies.get(query)
        if body is not None:
            self._bodies.move_to_end(query)
        return body

    def put(self, version: int, query: bytes, body: bytes) -> None:
        if version != self.version:
            self._bodies.clear()
            self.version = version
        self._bodies[query] = body
        if len(self._bodies) > self.capacity:
            self._bodies.popitem(last=False)


DirectAnswer = Callable[[Request], Awaitable[bytes | None]]


def answered_from_cache(direct: DirectAnswer) -> type[APIRoute]:
    """A GET route class whose 200 answers are kept in `app.state.zufi.answers` per query string.

    A query not kept is offered to `direct` first; only what it declines (None) reaches FastAPI.
    """

    class AnsweredFromCache(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            endpoint = super().get_route_handler()

            async def handler(request: Request) -> Response:
                zufi = request.app.state.zufi
                index, answers = zufi.index, zufi.answers
                version, query = index.version, request.scope["query_string"]
                body = answers.get(version, query)
                if body is not None:
                    return Response(body, media_type=JSON)
                body = await direct(request)
                if body is not None:
                    response = Response(body, media_type=JSON)
                else:
                    response = await endpoint(request)
                # Kept only if no change landed while it was computed (signing may wait on a thread).
                if response.status_code == 200 and zufi.index is index and index.version == version:
                    answers.put(version, query, bytes(response.body))
                return response

            return handler

    return AnsweredFromCache

"""The demo receiver's app state: what its endpoints and its clerk share."""

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request

from ozg_common.db import Database
from ozg_demo_receiver.control.service import Control
from ozg_demo_receiver.kop.repository import DeliveryStore
from ozg_demo_receiver.processing.return_channel import ReturnChannel
from ozg_demo_receiver.processing.tokens import SubscriberTokens
from ozg_demo_receiver.processing.worker import Clerk
from ozg_demo_receiver.settings import DemoReceiverSettings


@dataclass
class ReceiverState:
    """The demo receiver's long-lived collaborators, built once per app; the clerk joins them at
    start-up, with the HTTP client it calls submission and the gateway with."""

    settings: DemoReceiverSettings
    database: Database
    deliveries: DeliveryStore
    control: Control
    """The behaviour switches of `/_control`; the clerk reads the same object."""
    _clerk: Clerk | None = None

    @classmethod
    def build(cls, settings: DemoReceiverSettings) -> "ReceiverState":
        database = Database(settings.database_location, pool_size=settings.database_pool_size)
        return cls(
            settings=settings,
            database=database,
            deliveries=DeliveryStore(database),
            control=Control.from_settings(settings),
        )

    def hire_clerk(self, http: httpx.AsyncClient) -> Clerk:
        """The clerk that works through what arrived, answering over `http`."""
        s = self.settings
        tokens = SubscriberTokens(http, f"{s.submission_url}/token", s.client_credentials)
        self._clerk = Clerk(self.database, s, self.control, ReturnChannel(http, s.kop_gateway_url, tokens))
        return self._clerk

    @property
    def clerk(self) -> Clerk:
        assert self._clerk is not None, "the clerk starts with the app"
        return self._clerk


async def _state(request: Request) -> ReceiverState:
    # async: FastAPI would run a plain `def` dependency in a worker thread, a hop per request.
    state: ReceiverState = request.app.state.receiver
    return state


StateDep = Annotated[ReceiverState, Depends(_state)]
"""The demo receiver's state, for an endpoint."""

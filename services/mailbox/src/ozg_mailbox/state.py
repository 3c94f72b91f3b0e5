"""The mailbox's app state: what its endpoints, consumers and background jobs share."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ozg_common.blobstore import BlobStore, FilesystemBlobStore
from ozg_common.outbox import Outbox
from ozg_common.service import ServiceRuntime
from ozg_mailbox.identity import CitizenLogin
from ozg_mailbox.settings import MailboxSettings
from ozg_mailbox.web.login import CitizenOidc


@dataclass
class MailboxState:
    """The mailbox's long-lived collaborators, built once per app.

    Built before the runtime (its consumers need the blob store), then attached to it for what only
    the runtime has: the outbox.
    """

    settings: MailboxSettings
    blobs: BlobStore
    """The attachments' bytes."""
    citizen_login: CitizenLogin
    citizen_oidc: CitizenOidc | None
    """The web page's OpenID Connect client; None: the web page has no login."""
    _runtime: ServiceRuntime | None = None

    @classmethod
    def build(cls, settings: MailboxSettings) -> "MailboxState":
        return cls(
            settings=settings,
            blobs=FilesystemBlobStore(settings.blob_root),
            citizen_login=CitizenLogin.from_settings(settings),
            citizen_oidc=CitizenOidc(settings) if settings.web_login else None,
        )

    def attach(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime

    @property
    def runtime(self) -> ServiceRuntime:
        assert self._runtime is not None, "attach the runtime first"
        return self._runtime

    @property
    def outbox(self) -> Outbox:
        return self.runtime.outbox


async def _state(request: Request) -> MailboxState:
    # async: FastAPI would run a plain `def` dependency in a worker thread, a hop per request.
    state: MailboxState = request.app.state.mailbox
    return state


StateDep = Annotated[MailboxState, Depends(_state)]
"""The mailbox's state, for an endpoint."""

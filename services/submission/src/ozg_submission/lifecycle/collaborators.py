"""What the core needs of the service's app state (`SubmissionState` has all of it)."""

from typing import Protocol

from joserfc.jwk import RSAKey

from ozg_common.blobstore import FilesystemBlobStore
from ozg_common.keys import JwksCache
from ozg_common.outbox import Outbox
from ozg_submission.metrics import SubmissionMetrics
from ozg_submission.models import Destination
from ozg_submission.settings import SubmissionSettings


class Collaborators(Protocol):
    """Settings, blob store, outbox, metrics, destination keys and kop-gateway's: what moving a
    submission uses."""

    @property
    def settings(self) -> SubmissionSettings: ...

    @property
    def blobs(self) -> FilesystemBlobStore: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def metrics(self) -> SubmissionMetrics: ...

    def destination_key(self, destination: Destination) -> RSAKey:
        """The destination's public key as a key object."""
        ...

    @property
    def gateway_keys(self) -> JwksCache:
        """kop-gateway's published keys."""
        ...

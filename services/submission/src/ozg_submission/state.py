"""submission's app state: what its routes, consumers and jobs share (keys, blob store, zufi client,
metrics), and `StateDep`, the dependency that hands it to a route."""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from joserfc.jwk import RSAKey

from ozg_common import jose
from ozg_common.auth import TOKEN_ALGORITHM, TokenIssuer
from ozg_common.blobstore import FilesystemBlobStore
from ozg_common.keys import JwksCache, load_or_create_rsa_key, public_jwks
from ozg_common.outbox import Outbox
from ozg_common.security_events import SET_ALGORITHM, EventSigner
from ozg_common.service import ServiceRuntime
from ozg_submission.applications.forms import FormSchemas
from ozg_submission.applications.zufi import ZufiClient
from ozg_submission.identity.throttle import TokenAttempts
from ozg_submission.identity.verified import VerifiedSecrets
from ozg_submission.metrics import SubmissionMetrics
from ozg_submission.models import Destination
from ozg_submission.settings import SubmissionSettings


@dataclass
class SubmissionState:
    """The service's long-lived collaborators, built once per app.

    Built before the runtime (its consumers need the state), then attached to it.
    """

    settings: SubmissionSettings
    tokens: TokenIssuer
    events: EventSigner
    blobs: FilesystemBlobStore
    zufi: ZufiClient
    forms: FormSchemas
    token_attempts: TokenAttempts
    verified_secrets: VerifiedSecrets
    gateway_keys: JwksCache
    """kop-gateway's published keys, which the decisions it signs verify with."""
    _runtime: ServiceRuntime | None = None
    _metrics: SubmissionMetrics | None = None

    @classmethod
    def build(cls, settings: SubmissionSettings) -> "SubmissionState":
        keys = settings.keys_path
        token_key = load_or_create_rsa_key(keys / "submission-token.jwk.json")
        event_key = load_or_create_rsa_key(keys / "submission-events.jwk.json", bits=settings.event_key_bits)
        return cls(
            settings=settings,
            tokens=TokenIssuer(settings.token_issuer, token_key, lifetime=settings.token_lifetime),
            events=EventSigner(event_key, settings.public_base_url),
            blobs=FilesystemBlobStore(settings.blob_path),
            zufi=ZufiClient(settings.zufi_url, cache_seconds=settings.route_cache_seconds),
            forms=FormSchemas(),
            token_attempts=TokenAttempts(
                settings.token_failure_rate,
                settings.token_failure_burst,
                checks_rate=settings.token_check_rate,
                checks_burst=settings.token_check_burst,
                trusted_seconds=settings.token_verified_seconds,
            ),
            verified_secrets=VerifiedSecrets(
                settings.token_verified_seconds, registry_seconds=settings.token_registry_seconds
            ),
            gateway_keys=JwksCache(settings.kop_gateway_jwks_url),
        )

    def attach(self, runtime: ServiceRuntime) -> None:
        self._runtime = runtime
        self._metrics = SubmissionMetrics(runtime.metrics.registry)

    @property
    def runtime(self) -> ServiceRuntime:
        assert self._runtime is not None, "attach the runtime first"
        return self._runtime

    @property
    def metrics(self) -> SubmissionMetrics:
        assert self._metrics is not None, "attach the runtime first"
        return self._metrics

    _keys: dict[tuple[str, str], RSAKey] = field(default_factory=dict)

    def destination_key(self, destination: Destination) -> RSAKey:
        """The destination's public key as a key object; importing a JWK costs more than using it."""
        jwk = destination.encryption_key
        return self._key((destination.encryption_kid, str(jwk.get("n", ""))), lambda: jwk)

    def encryption_key(self, kid: str, jwk: str) -> RSAKey:
        """The key object of a JWK as stored (JSON text), decoded only the first time it is seen."""
        return self._key((kid, jwk), lambda: json.loads(jwk))

    def _key(self, cache_key: tuple[str, str], jwk: Callable[[], dict[str, Any]]) -> RSAKey:
        # (kid, modulus) and (kid, JSON text) never collide: base64url never starts with "{".
        key = self._keys.get(cache_key)
        if key is None:
            if len(self._keys) > 10_000:
                self._keys.clear()
            key = self._keys[cache_key] = jose.encryption_key(jwk())
        return key

    @property
    def outbox(self) -> Outbox:
        return self.runtime.outbox

    def jwks(self) -> dict[str, Any]:
        """Token key (RS256) and event-log key (PS512): everything our signatures verify with."""
        return {
            "keys": [
                *public_jwks(self.tokens.key, alg=TOKEN_ALGORITHM)["keys"],
                *public_jwks(self.events.key, alg=SET_ALGORITHM)["keys"],
            ]
        }


async def _state(request: Request) -> SubmissionState:
    # async: FastAPI would run a plain `def` dependency in a worker thread, a hop per request.
    state: SubmissionState = request.app.state.submission
    return state


StateDep = Annotated[SubmissionState, Depends(_state)]
"""The app's `SubmissionState`, as a route parameter."""

"""The kop-gateway's app state: what its endpoints, consumers and delivery worker share."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request

from ozg_common.keys import load_or_create_rsa_key, public_jwks
from ozg_common.outbox import Outbox
from ozg_common.security_events import SET_ALGORITHM, EventSigner
from ozg_common.service import ServiceRuntime
from ozg_kop_gateway.deliveries.lanes import LaneLimits, Lanes
from ozg_kop_gateway.deliveries.metrics import DeliveryMetrics
from ozg_kop_gateway.deliveries.policy import RetryPolicy
from ozg_kop_gateway.deliveries.service import Deliveries
from ozg_kop_gateway.deliveries.worker import DeliveryWorker
from ozg_kop_gateway.destinations.secrets import SecretBox
from ozg_kop_gateway.destinations.service import SigningSecrets
from ozg_kop_gateway.settings import KopGatewaySettings


@dataclass
class GatewayState:
    """The kop-gateway's long-lived collaborators, built once per app.

    Built before the runtime (its consumers need it), then attached to it for what only the runtime
    has: the outbox, the database and the metrics registry.
    """

    settings: KopGatewaySettings
    signing: SigningSecrets
    decisions: EventSigner
    """Signs the authorities' decisions the gateway records, under the gateway's own `iss`."""
    lanes: Lanes
    _runtime: ServiceRuntime | None = None
    _deliveries: Deliveries | None = None
    _metrics: DeliveryMetrics | None = None

    @classmethod
    def build(cls, settings: KopGatewaySettings) -> "GatewayState":
        return cls(
            settings=settings,
            signing=SigningSecrets(
                SecretBox(settings.encryption_key_bytes), settings.signing_master_secret.get_secret_value()
            ),
            decisions=EventSigner(
                load_or_create_rsa_key(
                    settings.keys_path / "kop-gateway-events.jwk.json", bits=settings.event_key_bits
                ),
                settings.public_base_url,
            ),
            lanes=Lanes(LaneLimits.from_settings(settings)),
        )

    def attach(self, runtime: ServiceRuntime) -> None:
        metrics = DeliveryMetrics(runtime.metrics.registry)
        runtime.metrics.refreshers.append(lambda: metrics.refresh_backlog(runtime.database))
        self._runtime = runtime
        self._metrics = metrics
        self._deliveries = Deliveries(
            runtime.outbox, RetryPolicy.from_settings(self.settings), self.retry_horizon, metrics
        )

    @property
    def retry_horizon(self) -> timedelta:
        """How long a delivery is retried before it is dead-lettered."""
        return timedelta(seconds=self.settings.retry_horizon)

    @property
    def runtime(self) -> ServiceRuntime:
        assert self._runtime is not None, "attach the runtime first"
        return self._runtime

    @property
    def deliveries(self) -> Deliveries:
        assert self._deliveries is not None, "attach the runtime first"
        return self._deliveries

    @property
    def metrics(self) -> DeliveryMetrics:
        assert self._metrics is not None, "attach the runtime first"
        return self._metrics

    @property
    def outbox(self) -> Outbox:
        return self.runtime.outbox

    def jwks(self) -> dict[str, Any]:
        """The key the gateway's SETs verify with."""
        return public_jwks(self.decisions.key, alg=SET_ALGORITHM)

    def delivery_worker(self) -> DeliveryWorker:
        """The worker that claims due deliveries and attempts them."""
        return DeliveryWorker(
            self.runtime.database, self.deliveries, self.signing, self.lanes, self.settings, self.metrics
        )


async def _state(request: Request) -> GatewayState:
    # async: FastAPI would run a plain `def` dependency in a worker thread, a hop per request.
    state: GatewayState = request.app.state.gateway
    return state


StateDep = Annotated[GatewayState, Depends(_state)]
"""The kop-gateway's state, for an endpoint."""

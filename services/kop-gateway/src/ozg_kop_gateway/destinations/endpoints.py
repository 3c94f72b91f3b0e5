"""Admin API of destinations: inspect the read model, set or rotate a webhook secret."""

import time
from datetime import timedelta

from fastapi import APIRouter, Response, status

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import problem_responses
from ozg_kop_gateway.deliveries.lanes import CircuitState
from ozg_kop_gateway.destinations import service
from ozg_kop_gateway.destinations.schemas import DestinationView, SecretInfo, SecretUpdate
from ozg_kop_gateway.errors import DestinationNotFound, InvalidSecret
from ozg_kop_gateway.state import StateDep

router = APIRouter(prefix="/v1/admin/destinations", tags=["admin: destinations"])


@router.get(
    "/{destination_id}",
    response_model=DestinationView,
    response_model_by_alias=True,
    responses=problem_responses(DestinationNotFound),
)
async def get_destination(
    destination_id: str, session: SessionDep, state: StateDep, _: AdminDep
) -> DestinationView:
    destination, secrets = await service.destination_with_secrets(session, destination_id)
    lane = state.lanes.get(destination_id)
    return DestinationView(
        id=destination.id,
        name=destination.name,
        authority_id=destination.authority_id,
        status=destination.status,
        channel_type=destination.channel_type,
        url=destination.url,
        signature_scheme=destination.signature_scheme,
        updated_at=destination.updated_at,
        circuit=lane.state(time.monotonic()) if lane else CircuitState.CLOSED,
        secrets=[SecretInfo.model_validate(s) for s in secrets],
    )


@router.put(
    "/{destination_id}/webhook-secret",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(DestinationNotFound, InvalidSecret),
)
async def set_webhook_secret(
    destination_id: str, body: SecretUpdate, session: SessionDep, state: StateDep, _: AdminDep
) -> Response:
    """Set (or rotate) the secret; it is stored encrypted and can never be read back."""
    overlap = state.settings.secret_rotation_overlap if body.overlap_seconds is None else body.overlap_seconds
    await state.signing.rotate(session, destination_id, body.secret, timedelta(seconds=overlap))
    return Response(status_code=status.HTTP_204_NO_CONTENT)

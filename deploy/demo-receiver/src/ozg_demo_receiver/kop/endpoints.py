"""`POST /kop/{destinationId}`: the Zustellkanal URL of every demo destination."""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ozg_common.problems import Problem, problem_response, problem_responses
from ozg_demo_receiver.control.endpoints import ControlDep
from ozg_demo_receiver.errors import EnvelopeInvalid, SignatureInvalid, SimulatedOutage
from ozg_demo_receiver.kop import service
from ozg_demo_receiver.kop.schemas import Receipt
from ozg_demo_receiver.state import StateDep

router = APIRouter(tags=["kop"])


@router.post(
    "/kop/{destination_id}",
    response_model=Receipt,
    response_model_by_alias=True,
    responses=problem_responses(SignatureInvalid, EnvelopeInvalid, SimulatedOutage),
)
async def receive_delivery(
    destination_id: str, request: Request, state: StateDep, control: ControlDep
) -> Receipt | JSONResponse:
    """Verify, dedupe and store a delivery; the answer comes later through the return channel."""
    if control.delay_seconds:
        await asyncio.sleep(control.delay_seconds)
    if control.take_failure():
        return _simulated_outage(control.fail_status, control.retry_after, request.url.path)
    receipt = await service.receive(
        state.deliveries, state.settings, destination_id, request.headers, await request.body()
    )
    if receipt.status == "received":
        # Stored and committed: the clerk may pick it up now.
        await state.clerk.wake()
    return receipt


def _simulated_outage(status: int, retry_after: int | None, path: str) -> JSONResponse:
    problem = Problem(
        type=SimulatedOutage.type_uri(),
        title=SimulatedOutage.title,
        status=status,
        detail="The receiver was switched to fail by /_control.",
        instance=path,
    )
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return problem_response(problem, headers)

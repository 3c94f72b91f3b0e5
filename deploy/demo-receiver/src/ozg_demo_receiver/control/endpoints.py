"""`/_control`: e2e tests and the demo switch the receiver's behaviour over HTTP."""

import hmac
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ozg_common.problems import problem_responses
from ozg_demo_receiver.control import service
from ozg_demo_receiver.control.schemas import ControlState, ControlUpdate
from ozg_demo_receiver.control.service import Control
from ozg_demo_receiver.errors import ControlForbidden
from ozg_demo_receiver.state import StateDep

router = APIRouter(prefix="/_control", tags=["control"])


async def authorised(request: Request, state: StateDep) -> None:
    expected = state.settings.control_token.get_secret_value()
    if not expected:
        return
    offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), expected.encode()):
        raise ControlForbidden()


async def control_of(state: StateDep) -> Control:
    return state.control


ControlDep = Annotated[Control, Depends(control_of)]


def _view(control: Control) -> ControlState:
    values = asdict(control)
    values["reject_leika_keys"] = sorted(control.reject_leika_keys)
    return ControlState.model_validate(values)


@router.get("", response_model_by_alias=True, dependencies=[Depends(authorised)])
async def read_control(control: ControlDep) -> ControlState:
    return _view(control)


@router.post(
    "",
    response_model_by_alias=True,
    dependencies=[Depends(authorised)],
    responses=problem_responses(ControlForbidden),
)
async def update_control(update: ControlUpdate, state: StateDep) -> ControlState:
    service.apply_update(state.control, update, state.settings)
    return _view(state.control)

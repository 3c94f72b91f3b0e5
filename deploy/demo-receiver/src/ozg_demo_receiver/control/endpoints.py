"""`/_control`: e2e tests and the demo switch the receiver's behaviour over HTTP."""

import hmac
import time
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from ozg_common.problems import problem_responses
from ozg_demo_receiver.control.schemas import ControlState, ControlUpdate
from ozg_demo_receiver.control.state import Control
from ozg_demo_receiver.errors import ControlForbidden
from ozg_demo_receiver.settings import DemoReceiverSettings

router = APIRouter(prefix="/_control", tags=["control"])


async def control_of(request: Request) -> Control:
    control: Control = request.app.state.control
    return control


async def authorised(request: Request) -> None:
    settings: DemoReceiverSettings = request.app.state.settings
    if not settings.control_token:
        return
    offered = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(offered.encode(), settings.control_token.encode()):
        raise ControlForbidden()


ControlDep = Annotated[Control, Depends(control_of)]


def _state(control: Control) -> ControlState:
    values = asdict(control)
    values["reject_leika_keys"] = sorted(control.reject_leika_keys)
    return ControlState.model_validate(values)


@router.get("", response_model_by_alias=True, dependencies=[Depends(authorised)])
async def read_control(control: ControlDep) -> ControlState:
    return _state(control)


@router.post(
    "",
    response_model_by_alias=True,
    dependencies=[Depends(authorised)],
    responses=problem_responses(ControlForbidden),
)
async def update_control(update: ControlUpdate, request: Request, control: ControlDep) -> ControlState:
    if update.reset:
        control.reset(request.app.state.settings)
    if update.auto_answer is not None:
        control.auto_answer = update.auto_answer
    if update.reject_leika_keys is not None:
        control.reject_leika_keys = set(update.reject_leika_keys)
    if update.fail_status is not None:
        control.fail_status = update.fail_status
    if update.fail_requests is not None:
        control.fail_requests = update.fail_requests
    if update.fail_for_seconds is not None:
        control.fail_until = time.time() + update.fail_for_seconds
    if update.retry_after is not None:
        control.retry_after = update.retry_after
    if update.delay_seconds is not None:
        control.delay_seconds = update.delay_seconds
    return _state(control)

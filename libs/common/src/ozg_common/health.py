"""Liveness and readiness: /healthz says the process runs, /readyz that it can do its job."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from ozg_common.problems import DEFAULT_TYPE_BASE, Problem, problem_response

ReadinessCheck = Callable[[], Awaitable[bool]]


def install_health(app: FastAPI, checks: Mapping[str, ReadinessCheck]) -> None:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "a dependency is unreachable"}})
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_safe(checks[n]) for n in names))
        state = {name: "ok" if ok else "unavailable" for name, ok in zip(names, results, strict=True)}
        if all(results):
            return JSONResponse({"status": "ready", "checks": state})
        failing = [name for name, ok in state.items() if ok != "ok"]
        problem = Problem.model_validate(
            {
                "type": DEFAULT_TYPE_BASE + "not-ready",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "unreachable: " + ", ".join(failing),
                "checks": state,
            }
        )
        return problem_response(problem)

    app.include_router(router)


async def _safe(check: ReadinessCheck) -> bool:
    try:
        async with asyncio.timeout(2.0):
            return await check()
    except Exception:
        return False

"""Liveness and readiness: /healthz says the process runs, /readyz that it can do its job."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse

from ozg_common.problems import DEFAULT_TYPE_BASE, Problem, problem_response

ReadinessCheck = Callable[[], Awaitable[str | None]]
"""Says what keeps a dependency from working, in one line; None when it works."""

CHECK_SECONDS = 2.0
"""How long one check may take: a probe must answer before the orchestrator's probe timeout."""


def install_health(app: FastAPI, checks: Mapping[str, ReadinessCheck]) -> None:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", responses={503: {"description": "a dependency is unreachable"}})
    async def readyz() -> JSONResponse:
        names = list(checks)
        results = await asyncio.gather(*(_safe(checks[n]) for n in names))
        state = {name: problem or "ok" for name, problem in zip(names, results, strict=True)}
        failing = [f"{name}: {problem}" for name, problem in zip(names, results, strict=True) if problem]
        if not failing:
            return JSONResponse({"status": "ready", "checks": state})
        problem = Problem.model_validate(
            {
                "type": DEFAULT_TYPE_BASE + "not-ready",
                "title": "Service Unavailable",
                "status": 503,
                "detail": "; ".join(failing),
                "checks": state,
            }
        )
        return problem_response(problem)

    app.include_router(router)


async def _safe(check: ReadinessCheck) -> str | None:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            return await check()
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:g} s"
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"

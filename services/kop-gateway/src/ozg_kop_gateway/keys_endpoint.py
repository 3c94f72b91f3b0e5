"""kop-gateway's public signing key: it verifies the decisions the gateway records."""

from typing import Any

from fastapi import APIRouter, Response

from ozg_kop_gateway.state import StateDep

router = APIRouter(tags=["keys"])


@router.get(
    "/.well-known/jwks.json",
    summary="The key (JWKS) that verifies the SETs the gateway signs for the authorities' decisions",
)
async def jwks(state: StateDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=300"
    return state.jwks()

"""zufi's public signing key: it verifies every destinationSignature."""

from typing import Any

from fastapi import APIRouter

from ozg_common.keys import public_jwks
from ozg_zufi.context import ZufiDep
from ozg_zufi.routing.signatures import SIGNATURE_ALGORITHM

router = APIRouter(tags=["keys"])


@router.get("/.well-known/jwks.json", summary="zufi's signing keys (JWKS)")
async def jwks(zufi: ZufiDep) -> dict[str, Any]:
    return public_jwks(zufi.signing_key, alg=SIGNATURE_ALGORITHM)

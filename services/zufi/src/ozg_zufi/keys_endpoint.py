"""zufi's public signing keys: they verify every destinationSignature."""

from typing import Any

from fastapi import APIRouter

from ozg_zufi.routing.signatures import SIGNATURE_ALGORITHM
from ozg_zufi.state import StateDep

router = APIRouter(tags=["keys"])


@router.get(
    "/.well-known/jwks.json",
    summary="zufi's signing keys (JWKS): the current one and, after a rotation, the previous one",
)
async def jwks(zufi: StateDep) -> dict[str, Any]:
    return {
        "keys": [
            {
                "kty": "RSA",
                "kid": key.kid,
                "n": public["n"],
                "e": public["e"],
                "alg": SIGNATURE_ALGORITHM,
                "use": "sig",
                "key_ops": ["verify"],
            }
            for key in zufi.signing_keys.published()
            for public in [key.as_dict(private=False)]
        ]
    }

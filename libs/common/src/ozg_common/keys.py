"""Signing keys kept on disk outside git, and their public JWKS."""

import json
import os
import uuid
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey


def load_or_create_rsa_key(path: Path, *, bits: int = 2048, use: str = "sig") -> RSAKey:
    """Load the private key at `path`, or create it once (mode 0600) on first start."""
    if path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(bits, parameters={"kid": str(uuid.uuid4()), "use": use}, private=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        json.dump(key.as_dict(private=True), handle)
    # Workers and replicas may race on first start: the first link wins (a link, unlike a rename,
    # never replaces), and all of them read the same key.
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return RSAKey.import_key(json.loads(path.read_text()))


def public_jwks(*keys: RSAKey, alg: str) -> dict[str, Any]:
    """The JWKS document publishing the public halves of `keys`."""
    return {"keys": [key.as_dict(private=False) | {"alg": alg, "use": "sig"} for key in keys]}


def key_set(jwks: dict[str, Any]) -> KeySet:
    return KeySet.import_key_set(jwks)  # type: ignore[arg-type]

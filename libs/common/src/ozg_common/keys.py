"""Signing keys kept on disk outside git, and their public JWKS."""

import contextlib
import json
import os
import uuid
from pathlib import Path
from typing import Any

from joserfc.jwk import KeySet, RSAKey


def write_once(path: Path, content: str) -> str:
    """Create `path` (mode 0600) with `content` unless it exists; answer what the file holds.

    Workers and replicas may race on first start: the first to link its temporary file into place
    wins (a link, unlike a rename, never replaces), and all of them read the same content.
    """
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(content)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:
        # A filesystem without hard links (some SMB/FUSE volumes): an exclusive create instead.
        with (
            contextlib.suppress(FileExistsError),
            os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle,
        ):
            handle.write(content)
    finally:
        tmp.unlink()
    return path.read_text()


def load_or_create_rsa_key(path: Path, *, bits: int = 2048, use: str = "sig") -> RSAKey:
    """Load the private key at `path`, or create it once (mode 0600) on first start."""
    if not path.exists():
        key = RSAKey.generate_key(bits, parameters={"kid": str(uuid.uuid4()), "use": use}, private=True)
        write_once(path, json.dumps(key.as_dict(private=True)))
    return RSAKey.import_key(json.loads(path.read_text()))


def public_jwks(*keys: RSAKey, alg: str) -> dict[str, Any]:
    """The JWKS document publishing the public halves of `keys`."""
    return {"keys": [key.as_dict(private=False) | {"alg": alg, "use": "sig"} for key in keys]}


def key_set(jwks: dict[str, Any]) -> KeySet:
    return KeySet.import_key_set(jwks)  # type: ignore[arg-type]

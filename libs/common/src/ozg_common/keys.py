"""Signing keys kept on disk outside git, and their public JWKS."""

import asyncio
import contextlib
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

logger = logging.getLogger(__name__)

MIN_RSA_BITS = 3072
"""The smallest RSA modulus the suite's own keys may have (BSI TR-02102-1: 3000 bits from 2024 on)."""


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


def load_or_create_rsa_key(path: Path, *, bits: int = MIN_RSA_BITS, use: str = "sig") -> RSAKey:
    """Load the private key at `path`, or create it once (mode 0600) with `bits` on first start.

    A key on disk smaller than MIN_RSA_BITS is still used, and logged as an error: replacing it
    would leave what it signed unverifiable (the event log's SETs are kept for years and the JWKS
    publishes the current keys only), so its rotation is the operator's decision, not a side
    effect of an upgrade.
    """
    if bits < MIN_RSA_BITS:
        raise ValueError(f"RSA keys of the suite need at least {MIN_RSA_BITS} bits (BSI TR-02102-1): {bits}")
    if not path.exists():
        key = RSAKey.generate_key(bits, parameters={"kid": str(uuid.uuid4()), "use": use}, private=True)
        write_once(path, json.dumps(key.as_dict(private=True)))
    key = RSAKey.import_key(json.loads(path.read_text()))
    if (found := rsa_bits(key)) < MIN_RSA_BITS:
        logger.error(
            "RSA key %s (kid %s) has %d bits, below the %d BSI TR-02102-1 requires: rotate it "
            "(move the file away and restart; a new key is created) once nothing signed with it "
            "still needs verifying",
            path,
            key.kid,
            found,
            MIN_RSA_BITS,
            extra={"key_path": str(path), "key_bits": found},
        )
    return key


def rsa_bits(key: RSAKey) -> int:
    """The size of the key's modulus in bits."""
    return int(key.raw_value.key_size)


def public_jwks(*keys: RSAKey, alg: str) -> dict[str, Any]:
    """The JWKS document publishing the public halves of `keys`."""
    return {"keys": [key.as_dict(private=False) | {"alg": alg, "use": "sig"} for key in keys]}


def key_set(jwks: dict[str, Any]) -> KeySet:
    return KeySet.import_key_set(jwks)  # type: ignore[arg-type]


class KeysUnavailable(Exception):
    """A JWKS could not be fetched, and none was fetched before."""


class JwksCache:
    """Another service's public keys, fetched from its JWKS URL and kept for `refresh_after` seconds.

    An unknown `kid` may mean the issuer rotated its key: `key_set(force=True)` fetches again, at
    most every 5 seconds (`keys_for` does so for a kid not listed). While the URL does not answer,
    the keys fetched last keep counting.
    """

    def __init__(self, url: str, *, refresh_after: float = 300.0, timeout: float = 5.0) -> None:
        self.url = url
        self.refresh_after = refresh_after
        self.timeout = timeout
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def key_set(self, *, force: bool = False) -> KeySet:
        stale = time.monotonic() - self._fetched_at > self.refresh_after
        if self._keys is None or stale or force:
            async with self._lock:
                if self._keys is None or time.monotonic() - self._fetched_at > 5 or stale:
                    try:
                        async with httpx.AsyncClient(timeout=self.timeout) as client:
                            answer = await client.get(self.url)
                            answer.raise_for_status()
                        self._keys = key_set(answer.json())
                        self._fetched_at = time.monotonic()
                    except (httpx.HTTPError, ValueError, TypeError, KeyError, JoseError) as exc:
                        if self._keys is None:
                            raise KeysUnavailable(f"no keys from {self.url}") from exc
        assert self._keys is not None
        return self._keys

    async def keys_for(self, kid: str) -> KeySet:
        """The keys, fetched again first if none of them has `kid` (the issuer may have a new key)."""
        keys = await self.key_set()
        if any(key.kid == kid for key in keys.keys):
            return keys
        return await self.key_set(force=True)

"""Secrets that passed their scrypt recently, remembered per replica as keyed BLAKE2 digests.

A client that knows its secret then costs microseconds instead of a scrypt per token, and gets its
token even while guesses for its client id or from its address have emptied their rations (the
way directory servers cache successful binds). The digest is keyed with a random key that lives
only in this process, and an entry holds only for the stored hash it was checked against: a
rotated secret or a withdrawn grace period no longer matches.

The client's registry entry (active, scopes, stored hashes) is remembered with it for a few
seconds, so that such a token needs no database round trip: under a flood of guesses every await
on the database waits behind the guesses' own lookups. `RegistryRefresh` reads the entries of all
remembered clients again in one query, twice per period, so a token request finds its entry fresh
and reads the database itself only when the refresh falls behind. A change made elsewhere (another
replica, the command line) is seen here that much later, a trifle beside the lifetime of the tokens
already issued; a change made through this replica's API is forgotten at once (a token asked for
while that change is being committed may still read the entry as it was).
"""

import asyncio
import contextlib
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from ozg_submission.identity.secrets import verify_secret

_MAX_ENTRIES = 10_000
_CHECK_NICENESS = 10


@dataclass(frozen=True, slots=True)
class Authenticated:
    """A client that showed a right secret: what its token is made of."""

    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verified:
    """A secret verified lately: the client, the stored hash it matched, and until when the
    registry entry read with it may be taken without reading it again."""

    client: Authenticated
    stored_hash: str
    read_until: float
    expires: float

    @property
    def read_lately(self) -> bool:
        """Whether the registry entry is recent enough to issue a token without the database."""
        return time.monotonic() < self.read_until


def _yield_to_loop() -> None:
    # The checking thread runs at a lower CPU priority than the event loop (Linux schedules threads
    # one by one), so a burst of guesses takes the cores only while nobody else needs them.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _CHECK_NICENESS)


class VerifiedSecrets:
    """Recently verified `(client id, secret)` pairs, the stored hash each matched, its client."""

    def __init__(self, lifetime: float, *, registry_seconds: float) -> None:
        self.lifetime = lifetime
        self.registry_seconds = registry_seconds
        self._key = secrets.token_bytes(32)
        self._entries: dict[tuple[str, bytes], Verified] = {}
        self.check_seconds = 0.05
        """How long a scrypt took lately: an unknown client is answered after as long."""
        self._checker = ThreadPoolExecutor(1, thread_name_prefix="secret-check", initializer=_yield_to_loop)

    def _digest(self, secret: str) -> bytes:
        # BLAKE2's own keyed mode: an HMAC through OpenSSL 3 costs a digest lookup per call.
        return hashlib.blake2b(secret.encode(), key=self._key, digest_size=32).digest()

    def lookup(self, client_id: str, secret: str) -> Verified | None:
        """What this secret was verified as, if it was within the lifetime."""
        entry = self._entries.get((client_id, self._digest(secret)))
        if entry is None or entry.expires < time.monotonic():
            return None
        return entry

    def remember(self, client: Authenticated, secret: str, stored_hash: str) -> None:
        """Takes `secret` for `client` from now on, its registry entry just read."""
        now = time.monotonic()
        key = (client.client_id, self._digest(secret))
        if len(self._entries) >= _MAX_ENTRIES and key not in self._entries:
            self._entries = {k: entry for k, entry in self._entries.items() if entry.expires >= now}
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
        earlier = self._entries.get(key)
        expires = earlier.expires if earlier and earlier.stored_hash == stored_hash else now + self.lifetime
        self._entries[key] = Verified(client, stored_hash, now + self.registry_seconds, expires)

    def clients(self) -> set[str]:
        """The ids of the clients with a remembered secret."""
        return {client_id for client_id, _ in self._entries}

    def refreshed(self, hashes: Mapping[str, tuple[Authenticated, Sequence[str]]], read_at: float) -> None:
        """Takes registry entries read at `read_at`: `hashes` maps each active client to what its
        token is made of and its valid stored hashes. Entries read again meanwhile are left as they
        are; a client missing from `hashes`, or whose secret no longer matches a stored hash, is
        forgotten."""
        kept: dict[tuple[str, bytes], Verified] = {}
        for key, entry in self._entries.items():
            if entry.read_until - self.registry_seconds >= read_at:
                kept[key] = entry
                continue
            current = hashes.get(key[0])
            if current is not None and entry.stored_hash in current[1]:
                kept[key] = replace(entry, client=current[0], read_until=read_at + self.registry_seconds)
        self._entries = kept

    def forget(self, client_id: str) -> None:
        """Drops what is remembered for `client_id`, whose registry entry has changed."""
        self._entries = {key: entry for key, entry in self._entries.items() if key[0] != client_id}

    async def matching(self, secret: str, hashes: Sequence[str]) -> str | None:
        """The stored hash among `hashes` that `secret` matches, by scrypt, one at a time per replica:
        checks side by side would take the cores the event loop needs to answer everyone else."""
        return await asyncio.get_running_loop().run_in_executor(self._checker, self._matching, secret, hashes)

    def _matching(self, secret: str, hashes: Sequence[str]) -> str | None:
        for stored in hashes:
            started = time.perf_counter()
            matches = verify_secret(secret, stored)
            self._checked_in(time.perf_counter() - started)
            if matches:
                return stored
        return None

    def _checked_in(self, seconds: float) -> None:
        # The time a scrypt takes, smoothed over the last few.
        self.check_seconds += (seconds - self.check_seconds) / 8

"""Secrets that passed their scrypt recently, remembered per replica as keyed BLAKE2 digests.

A client that knows its secret then costs microseconds instead of a scrypt per token, and gets its
token even while guesses for its client id or from its address have emptied their rations (the
way directory servers cache successful binds). The digest is keyed with a random key that lives
only in this process, and an entry holds only for the stored hash it was checked against: a
rotated secret or a withdrawn grace period no longer matches.
"""

import hashlib
import secrets
import time

_MAX_ENTRIES = 10_000


class VerifiedSecrets:
    """Recently verified `(client id, secret)` pairs and the stored hash each one matched."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self._key = secrets.token_bytes(32)
        self._entries: dict[tuple[str, bytes], tuple[str, float]] = {}
        self.check_seconds = 0.05
        """How long a scrypt took lately: an unknown client is answered after as long."""

    def _digest(self, secret: str) -> bytes:
        # BLAKE2's own keyed mode: an HMAC through OpenSSL 3 costs a digest lookup per call.
        return hashlib.blake2b(secret.encode(), key=self._key, digest_size=32).digest()

    def matched_hash(self, client_id: str, secret: str) -> str | None:
        """The stored hash this secret was verified against, if it was within the lifetime."""
        entry = self._entries.get((client_id, self._digest(secret)))
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def remember(self, client_id: str, secret: str, stored_hash: str) -> None:
        now = time.monotonic()
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries = {key: entry for key, entry in self._entries.items() if entry[1] >= now}
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
        self._entries[(client_id, self._digest(secret))] = (stored_hash, now + self.lifetime)

    def checked_in(self, seconds: float) -> None:
        """Follows the time a scrypt takes, smoothed over the last few."""
        self.check_seconds += (seconds - self.check_seconds) / 8

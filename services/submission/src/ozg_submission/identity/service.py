"""The client registry and the token issuer behind `/token`."""

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.auth import TokenIssuer
from ozg_common.db import Database
from ozg_submission.directory.repository import get_destination
from ozg_submission.errors import (
    AdministratorLockOut,
    ClientExists,
    ClientNotFound,
    InvalidApplication,
    InvalidClient,
    InvalidScope,
    TokenRequestsThrottled,
)
from ozg_submission.identity import repository
from ozg_submission.identity.scopes import (
    ADMIN,
    CITIZEN,
    DESTINATION_PREFIX,
    SCOPE_PATTERN,
    ZUSTELLKANAL_HOST_PREFIX,
)
from ozg_submission.identity.secrets import hash_secret, new_secret, verify_secret
from ozg_submission.identity.throttle import TokenAttempts
from ozg_submission.identity.verified import Authenticated, VerifiedSecrets
from ozg_submission.models import ApiClient

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A client together with its clear secret, which exists only in this answer."""

    client: ApiClient
    secret: str


def _checked_scopes(scopes: Sequence[str]) -> list[str]:
    bad = [scope for scope in scopes if not SCOPE_PATTERN.match(scope)]
    if bad:
        raise InvalidApplication(f"Malformed scopes: {', '.join(bad)}.")
    if CITIZEN in scopes:
        raise InvalidApplication("Citizen tokens are issued per person, not to API clients.")
    return sorted(set(scopes))


async def create_client(
    session: AsyncSession,
    *,
    scopes: Sequence[str],
    client_id: str | None = None,
    secret: str | None = None,
    description: str | None = None,
) -> IssuedSecret:
    client_id = client_id or str(uuid.uuid4())
    if await repository.get_client(session, client_id) is not None:
        raise ClientExists(f"Client {client_id} exists.")
    secret = secret or new_secret()
    now = datetime.now(UTC)
    client = ApiClient(
        client_id=client_id,
        secret_hash=await asyncio.to_thread(hash_secret, secret),
        scopes=_checked_scopes(scopes),
        description=description,
        active=True,
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    await session.flush()
    return IssuedSecret(client, secret)


async def find_client(session: AsyncSession, client_id: str, *, for_update: bool = False) -> ApiClient:
    client = await repository.get_client(session, client_id, for_update=for_update)
    if client is None:
        raise ClientNotFound(f"No client {client_id}.")
    return client


async def rotate_secret(session: AsyncSession, client_id: str, *, grace: timedelta) -> IssuedSecret:
    """A new secret; the old one keeps working for `grace` so the client can switch over."""
    client = await find_client(session, client_id, for_update=True)
    secret = new_secret()
    now = datetime.now(UTC)
    client.previous_secret_hash = client.secret_hash if grace else None
    client.previous_valid_until = now + grace if grace else None
    client.secret_hash = await asyncio.to_thread(hash_secret, secret)
    client.updated_at = now
    return IssuedSecret(client, secret)


async def _keep_administrators(
    session: AsyncSession, client: ApiClient, caller: str | None, *, withdrawn: bool, stays_admin: bool
) -> None:
    """Refuses what would lock the operators out: a client deleting or deactivating itself
    (`withdrawn`), or the last active administrator losing its admin role."""
    if withdrawn and client.client_id == caller:
        raise AdministratorLockOut("A client cannot delete or deactivate itself.")
    if stays_admin or not (client.active and ADMIN in client.scopes):
        return
    administrators = await repository.lock_active_administrators(session)
    if all(other.client_id == client.client_id for other in administrators):
        raise AdministratorLockOut(
            f"{client.client_id} is the last active client with the admin scope; "
            "give another client the admin scope first."
        )


async def update_client(
    session: AsyncSession,
    client_id: str,
    *,
    scopes: Sequence[str] | None,
    description: str | None,
    active: bool | None,
    caller: str | None,
) -> ApiClient:
    client = await find_client(session, client_id, for_update=True)
    new_scopes = _checked_scopes(scopes) if scopes is not None else client.scopes
    still_active = client.active if active is None else active
    await _keep_administrators(
        session,
        client,
        caller,
        withdrawn=active is False,
        stays_admin=still_active and ADMIN in new_scopes,
    )
    if scopes is not None:
        client.scopes = new_scopes
    if description is not None:
        client.description = description
    if active is not None:
        client.active = active
    client.updated_at = datetime.now(UTC)
    return client


async def delete_client(session: AsyncSession, client_id: str, *, caller: str | None) -> None:
    client = await find_client(session, client_id, for_update=True)
    await _keep_administrators(session, client, caller, withdrawn=True, stays_admin=False)
    await session.delete(client)


def _valid_hashes(client: ApiClient, now: datetime) -> list[str]:
    """The client's stored hash, and the one before it while its grace period lasts."""
    hashes = [client.secret_hash]
    valid_until = client.previous_valid_until
    if client.previous_secret_hash and valid_until is not None and now < valid_until:
        hashes.append(client.previous_secret_hash)
    return hashes


def _authenticated(client: ApiClient) -> Authenticated:
    return Authenticated(client.client_id, tuple(client.scopes))


async def authenticate(
    session: AsyncSession,
    client_id: str,
    secret: str,
    *,
    address: str,
    attempts: TokenAttempts,
    verified: VerifiedSecrets,
) -> Authenticated:
    """The client, if the secret is right.

    A secret verified lately is taken at once, rations or not, and without the database while its
    registry entry was read lately (verified.py, `RegistryRefresh`); any other attempt is rationed
    (throttle.py) before the registry is read. An unknown client costs no scrypt but is answered no
    sooner than a wrong secret, so that the timing does not list the registered client ids.
    """
    now = datetime.now(UTC)
    known = verified.lookup(client_id, secret)
    if known is not None:
        if known.read_lately:
            attempts.trust(client_id, address)
            return known.client
        client = await repository.get_client(session, client_id)
        if client is not None and client.active and known.stored_hash in _valid_hashes(client, now):
            reread = _authenticated(client)
            verified.remember(reread, secret, known.stored_hash)
            attempts.trust(client_id, address)
            return reread
    attempts.admit(client_id, address)
    async with attempts.lookups:
        client = await repository.get_client(session, client_id)
        hashes, active = (_valid_hashes(client, now), client.active) if client else ([], False)
        authenticated = _authenticated(client) if client else None
        # The waits below would hold a pooled connection each: a burst of guesses queued for the
        # one scrypt at a time would leave none for a valid client whose registry entry is due.
        await session.rollback()
    if authenticated is None:
        await asyncio.sleep(verified.check_seconds)
        raise InvalidClient()
    try:
        attempts.admit_check(client_id, address)
    except TokenRequestsThrottled:
        attempts.release(client_id, address)
        raise
    matched = await verified.matching(secret, hashes)
    if matched is None or not active:
        raise InvalidClient()
    # Given back before `trust`: it was charged as from a strange address.
    attempts.release(client_id, address)
    attempts.release_check(client_id, address)
    attempts.trust(client_id, address)
    verified.remember(authenticated, secret, matched)
    return authenticated


async def refresh_registry(session: AsyncSession, verified: VerifiedSecrets) -> None:
    """Reads the registry entries of the clients with remembered secrets again, in one query."""
    client_ids = verified.clients()
    if not client_ids:
        return
    read_at, now = time.monotonic(), datetime.now(UTC)
    clients = await repository.get_clients(session, client_ids)
    verified.refreshed(
        {c.client_id: (_authenticated(c), _valid_hashes(c, now)) for c in clients if c.active}, read_at
    )


class RegistryRefresh:
    """Keeps the remembered clients' registry entries fresh: read twice per `registry_seconds`, so
    that a token request seldom has to read its own."""

    def __init__(self, database: Database, verified: VerifiedSecrets) -> None:
        self.database = database
        self.verified = verified

    async def run(self) -> None:
        while True:
            async with self.database.transaction() as session:
                await refresh_registry(session, self.verified)
            await asyncio.sleep(self.verified.registry_seconds / 2)


async def granted_scopes(session: AsyncSession, client: Authenticated, requested: str | None) -> list[str]:
    """All registered scopes, or the requested subset of them (RFC 6749 §3.3).

    A `zustellkanal-host:` registration extends to `destination:<id>` for the destinations
    whose Zustellkanal is served by that host, so a Fachverfahren serving many destinations
    needs one client, not thousands of registrations.
    """
    if not requested:
        return list(client.scopes)
    wanted = requested.split()
    hosts = {
        s.removeprefix(ZUSTELLKANAL_HOST_PREFIX)
        for s in client.scopes
        if s.startswith(ZUSTELLKANAL_HOST_PREFIX)
    }
    refused = []
    for scope in wanted:
        if scope in client.scopes:
            continue
        if hosts and scope.startswith(DESTINATION_PREFIX):
            destination = await get_destination(session, scope.removeprefix(DESTINATION_PREFIX))
            url = (destination.zustellkanal.get("url") or "") if destination else ""
            if urlsplit(url).netloc in hosts:
                continue
        refused.append(scope)
    if refused:
        raise InvalidScope(f"Scopes not granted to this client: {', '.join(refused)}.")
    return wanted


def issue_token(issuer: TokenIssuer, client: Authenticated, scopes: Sequence[str]) -> str:
    return issuer.issue(client.client_id, scopes, client_id=client.client_id)


async def upsert_bootstrap_clients(session: AsyncSession, path: Path) -> int:
    """Create or update the clients listed in `path` (JSON list of {client_id, client_secret, scopes})."""
    entries = json.loads(await asyncio.to_thread(path.read_text))
    now = datetime.now(UTC)
    for entry in entries:
        client_id, secret = str(entry["client_id"]), str(entry["client_secret"])
        scopes = _checked_scopes([str(s) for s in entry.get("scopes", [])])
        client = await repository.get_client(session, client_id, for_update=True)
        if client is None:
            await create_client(session, scopes=scopes, client_id=client_id, secret=secret)
            continue
        if not await asyncio.to_thread(verify_secret, secret, client.secret_hash):
            client.secret_hash = await asyncio.to_thread(hash_secret, secret)
        client.scopes = scopes
        client.active = True
        client.updated_at = now
    logger.info("bootstrap clients applied", extra={"count": len(entries)})
    return len(entries)

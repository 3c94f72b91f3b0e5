"""The destination read model (from zufi's events) and the secrets deliveries are signed with."""

from collections.abc import Iterable, Set
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.zufi import DestinationChanged
from ozg_common.events import CloudEvent
from ozg_common.webhooks import SECRET_PREFIX, derive_destination_secret, standard_webhook_key
from ozg_kop_gateway.destinations import repository
from ozg_kop_gateway.destinations.secrets import SecretBox
from ozg_kop_gateway.errors import DestinationNotFound, InvalidSecret
from ozg_kop_gateway.models import Destination, WebhookSecret

MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64


async def apply_destination_changed(session: AsyncSession, event: DestinationChanged, _: CloudEvent) -> None:
    """Upsert the read model; a pending retry picks up the new URL at its next attempt."""
    destination = await repository.get(session, event.destination_id)
    if destination is None:
        destination = Destination(id=event.destination_id)
        repository.add_destination(session, destination)
    destination.name = event.name
    destination.authority_id = event.authority_id
    destination.status = event.status
    destination.channel_type = event.zustellkanal.channel_type
    destination.url = event.zustellkanal.url
    destination.signature_scheme = event.zustellkanal.signature_scheme
    destination.updated_at = datetime.now(UTC)


async def destination_with_secrets(
    session: AsyncSession, destination_id: str
) -> tuple[Destination, list[WebhookSecret]]:
    """A destination of the read model and the secrets that sign its requests now."""
    destination = await repository.get(session, destination_id)
    if destination is None:
        raise DestinationNotFound(f"No destination {destination_id} is known.")
    return destination, await repository.live_secrets(session, [destination_id], datetime.now(UTC))


class SigningSecrets:
    """Which secrets sign a destination's requests: its explicit ones, else the derived one."""

    def __init__(self, box: SecretBox, master_secret: str) -> None:
        self.box = box
        self.master_secret = master_secret

    async def for_destinations(
        self, session: AsyncSession, destination_ids: Iterable[str], *, explicit: Set[str]
    ) -> dict[str, list[str]]:
        """Newest first; several while a rotation overlaps. Only the `explicit` ones (those seen
        with explicit secrets) are looked up: the others sign with their derived secret."""
        ids = set(destination_ids)
        found: dict[str, list[str]] = {}
        if explicit:
            for row in await repository.live_secrets(session, explicit, datetime.now(UTC)):
                found.setdefault(row.destination_id, []).append(
                    self.box.open(row.destination_id, row.ciphertext)
                )
        return {d: found.get(d) or [derive_destination_secret(self.master_secret, d)] for d in ids}

    async def rotate(
        self, session: AsyncSession, destination_id: str, secret: str, overlap: timedelta
    ) -> WebhookSecret:
        """Make `secret` the destination's current one; the previous keep signing for `overlap`."""
        if await repository.get(session, destination_id) is None:
            raise DestinationNotFound(f"No destination {destination_id} is known.")
        check_secret(secret)
        now = datetime.now(UTC)
        await repository.retire_current_secrets(session, destination_id, now + overlap)
        row = WebhookSecret(
            destination_id=destination_id,
            ciphertext=self.box.seal(destination_id, secret),
            created_at=now,
            retires_at=None,
        )
        repository.add_secret(session, row)
        return row


def check_secret(secret: str) -> None:
    """A `whsec_` base64 key of 24–64 bytes, or a plain secret of 32–256 printable characters."""
    if secret.startswith(SECRET_PREFIX):
        try:
            size = len(standard_webhook_key(secret))
        except ValueError as exc:
            raise InvalidSecret("The part after whsec_ must be base64.") from exc
        if not MIN_SECRET_BYTES <= size <= MAX_SECRET_BYTES:
            raise InvalidSecret(f"A whsec_ key must be {MIN_SECRET_BYTES}–{MAX_SECRET_BYTES} bytes long.")
    elif not (32 <= len(secret) <= 256 and secret.isascii() and secret.isprintable() and " " not in secret):
        raise InvalidSecret("A plain secret must be 32–256 printable ASCII characters without spaces.")

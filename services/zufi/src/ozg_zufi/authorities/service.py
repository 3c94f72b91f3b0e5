"""Authorities and their Zustellkanal: write them, publish DestinationChanged, patch the routing index."""

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.contracts.zufi import DestinationChanged, Zustellkanal
from ozg_zufi.authorities import repository
from ozg_zufi.authorities.keys import public_encryption_jwk, public_signing_jwk
from ozg_zufi.authorities.schemas import AuthorityIn, AuthorityOut, DestinationOut
from ozg_zufi.errors import (
    AuthorityChanged,
    AuthorityNotFound,
    DestinationIdConflict,
    DestinationNotFound,
    UnknownReference,
)
from ozg_zufi.models import Authority, Destination, utcnow
from ozg_zufi.routing.index import AuthorityEntry, DestinationEntry, RoutingIndex, authority_links
from ozg_zufi.state import ZufiState


def destination_changed(authority: Authority, destination: Destination) -> DestinationChanged:
    return DestinationChanged(
        destination_id=str(destination.id),
        status=destination.status,  # type: ignore[arg-type]  # the column only holds active/inactive
        name=authority.name,
        authority_id=str(authority.id),
        zustellkanal=Zustellkanal(
            channel_type=destination.channel_type,  # type: ignore[arg-type]
            url=destination.url,
            signature_scheme=destination.signature_scheme,  # type: ignore[arg-type]
        ),
        encryption_kid=destination.encryption_kid,
        encryption_key=destination.encryption_key,
        services=destination.services,
        reply_channels=destination.reply_channels,
        metadata_versions=destination.metadata_versions,
        area_ars=authority.area_ars,
        signing_key=destination.signing_key,
    )


def authority_out(authority: Authority, destination: Destination | None) -> AuthorityOut:
    return AuthorityOut(
        id=authority.id,
        name=authority.name,
        short_name=authority.short_name,
        area_id=authority.area_ars,
        address=authority.address,
        postal_address=authority.postal_address,
        contact_persons=authority.contacts,
        destination_logo=authority.logo_url,
        privacy_policy_url=authority.privacy_policy_url,
        imprint_url=authority.imprint_url,
        accessibility_url=authority.accessibility_url,
        contact_form_url=authority.contact_form_url,
        destination=None
        if destination is None
        else DestinationOut(
            id=destination.id,
            status=destination.status,
            channel_type=destination.channel_type,
            url=destination.url,
            signature_scheme=destination.signature_scheme,
            encryption_kid=destination.encryption_kid,
            signing_kid=destination.signing_key["kid"] if destination.signing_key else None,
            services=destination.declared_services,
            offered_services=destination.services,
            reply_channels=destination.reply_channels,
            metadata_versions=destination.metadata_versions,
        ),
        updated_at=authority.updated_at,
    )


async def get_authority(
    session: AsyncSession, authority_id: uuid.UUID, *, for_update: bool = False
) -> tuple[Authority, Destination | None]:
    """`for_update`: locked until the transaction ends, for a write that depends on what was read."""
    authority = await repository.get_authority(session, authority_id, for_update=for_update)
    if authority is None:
        raise AuthorityNotFound(f"No authority {authority_id}.")
    return authority, await repository.destination_of(session, authority_id, for_update=for_update)


def entity_tag(authority: AuthorityOut) -> str:
    """The strong ETag of an authority as the admin API shows it: any change of what it shows (a
    background recompute of the destination's services included) changes the tag."""
    return '"' + hashlib.sha256(authority.model_dump_json(by_alias=True).encode()).hexdigest()[:32] + '"'


async def require_unchanged(session: AsyncSession, authority_id: uuid.UUID, if_match: str) -> None:
    """RFC 9110 If-Match: go on only if the authority is still as the client read it (`*`: if it
    exists). Locks it, so the write that follows replaces exactly what was compared."""
    try:
        current = authority_out(*await get_authority(session, authority_id, for_update=True))
    except AuthorityNotFound as exc:
        raise AuthorityChanged(f"Authority {authority_id} does not exist (any more).") from exc
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" not in wanted and entity_tag(current) not in wanted:
        raise AuthorityChanged(
            f"Authority {authority_id} has changed since it was read: read it again and repeat the change."
        )


async def get_destination(session: AsyncSession, destination_id: uuid.UUID) -> tuple[Destination, Authority]:
    destination = await repository.get_destination(session, destination_id)
    if destination is None:
        raise DestinationNotFound(f"No destination {destination_id}.")
    authority = await repository.get_authority(session, destination.authority_id)
    assert authority is not None  # a destination always belongs to an authority (foreign key)
    return destination, authority


async def put_authority(
    session: AsyncSession, zufi: ZufiState, authority_id: uuid.UUID, data: AuthorityIn
) -> tuple[Authority, Destination]:
    """Create or replace an authority and its Zustellkanal."""
    if data.area_id not in zufi.index.areas:
        raise UnknownReference(f"No area has the ARS {data.area_id!r}.")
    known = await repository.known_services(session, data.destination.services)
    unknown = [key for key in data.destination.services if key not in known]
    if unknown:
        raise UnknownReference(f"Unknown services: {', '.join(unknown)}.")
    jwk = public_encryption_jwk(data.destination.encryption_key)
    signing_jwk = (
        public_signing_jwk(data.destination.signing_key, jwk["kid"])
        if data.destination.signing_key is not None
        else None
    )
    now = utcnow()
    authority = await repository.get_authority(session, authority_id)
    if authority is None:
        authority = Authority(id=authority_id, created_at=now)
        await repository.add(session, authority)
    authority.name = data.name
    authority.short_name = data.short_name
    authority.area_ars = data.area_id
    authority.address = data.address.model_dump(exclude_none=True)
    authority.postal_address = data.postal_address.model_dump(exclude_none=True)
    authority.contacts = [person.model_dump(exclude_none=True) for person in data.contact_persons]
    authority.logo_url = data.destination_logo
    authority.privacy_policy_url = data.privacy_policy_url
    authority.imprint_url = data.imprint_url
    authority.accessibility_url = data.accessibility_url
    authority.contact_form_url = data.contact_form_url
    authority.updated_at = now
    await repository.write(session)

    destination = await repository.destination_of(session, authority_id)
    wanted_id = data.destination.id
    if wanted_id is not None and (destination is None or destination.id != wanted_id):
        taken = await repository.get_destination(session, wanted_id)
        if destination is not None or taken is not None:
            raise DestinationIdConflict(
                f"Destination {wanted_id} cannot be given to authority {authority_id}."
            )
    if destination is None:
        destination = Destination(id=wanted_id or uuid.uuid4(), authority_id=authority_id)
        await repository.add(session, destination)
    destination.status = data.destination.status
    destination.channel_type = data.destination.channel_type
    destination.url = str(data.destination.url) if data.destination.url else None
    destination.signature_scheme = data.destination.signature_scheme
    destination.encryption_kid = jwk["kid"]
    destination.encryption_key = jwk
    destination.signing_key = signing_jwk
    # What routing added stays offered until the recompute below has judged it again.
    declared = data.destination.services
    routed = [key for key in destination.services or () if key not in (destination.declared_services or ())]
    destination.declared_services = declared
    destination.services = [*declared, *(key for key in routed if key not in declared)]
    destination.reply_channels = data.destination.reply_channels
    destination.metadata_versions = list(data.destination.metadata_versions)
    destination.updated_at = now
    await repository.write(session)
    await _published(session, zufi, authority, destination)
    return authority, destination


async def deactivate_authority(
    session: AsyncSession, zufi: ZufiState, authority_id: uuid.UUID
) -> tuple[Authority, Destination | None]:
    """Stop routing to the authority: its destination becomes inactive."""
    authority, destination = await get_authority(session, authority_id)
    if destination is not None:
        destination.status = "inactive"
        destination.updated_at = utcnow()
        await repository.write(session)
        await _published(session, zufi, authority, destination)
    return authority, destination


async def _published(
    session: AsyncSession, zufi: ZufiState, authority: Authority, destination: Destination
) -> None:
    await zufi.outbox.publish(session, destination_changed(authority, destination))
    authority_entry = authority_entry_of(authority)
    destination_entry = DestinationEntry(destination.id, destination.authority_id, destination.status)

    def patch(index: RoutingIndex) -> None:
        index.set_authority(authority_entry)
        index.set_destination(destination_entry)

    # A new, moved or deactivated authority changes whom routing sends services to.
    zufi.patch_on_commit(session, patch, recompute=None)


def authority_entry_of(authority: Authority) -> AuthorityEntry:
    return AuthorityEntry(
        authority.id,
        authority.name,
        authority.short_name,
        authority.area_ars,
        authority.address,
        authority.contacts,
        authority.created_at,
        authority_links(
            authority.postal_address,
            authority.logo_url,
            authority.privacy_policy_url,
            authority.imprint_url,
            authority.accessibility_url,
            authority.contact_form_url,
        ),
    )

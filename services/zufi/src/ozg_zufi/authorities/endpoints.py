"""Destinations (public) and authorities with their Zustellkanal (admin)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status

from ozg_common.auth import AdminDep
from ozg_common.db import SessionDep
from ozg_common.problems import Forbidden, Unauthorized, problem_responses
from ozg_zufi.authorities import service as authorities
from ozg_zufi.authorities.schemas import AuthorityIn, AuthorityOut, PublicDestination, PublicService
from ozg_zufi.catalogue.schemas import ServiceOut
from ozg_zufi.errors import (
    AuthorityChanged,
    AuthorityNotFound,
    DestinationIdConflict,
    DestinationNotFound,
    InvalidEncryptionKey,
    InvalidSigningKey,
    KeyNotFound,
    RateLimited,
    UnknownReference,
)
from ozg_zufi.state import StateDep

router = APIRouter(prefix="/v1/destinations", tags=["destinations"])
admin_router = APIRouter(prefix="/v1/admin/authorities", tags=["admin"])

WRITE_ERRORS = (
    Unauthorized,
    Forbidden,
    UnknownReference,
    InvalidEncryptionKey,
    InvalidSigningKey,
    DestinationIdConflict,
)


@router.get(
    "/{destination_id}",
    summary="A destination's public information",
    responses=problem_responses(DestinationNotFound, RateLimited),
)
async def get_destination(session: SessionDep, destination_id: uuid.UUID) -> PublicDestination:
    destination, authority = await authorities.get_destination(session, destination_id)
    return PublicDestination(
        destination_id=destination.id,
        status=destination.status,
        name=authority.name,
        encryption_kid=destination.encryption_kid,
        services=[
            PublicService(identifier=ServiceOut.urn(key), leika_key=key) for key in destination.services
        ],
        reply_channels=destination.reply_channels,
        metadata_versions=destination.metadata_versions,
    )


@router.get(
    "/{destination_id}/keys/{kid}",
    summary="A destination's public key (JWK): for encryption, or for verifying its signatures",
    responses=problem_responses(DestinationNotFound, KeyNotFound, RateLimited),
)
async def get_destination_key(session: SessionDep, destination_id: uuid.UUID, kid: str) -> dict[str, Any]:
    destination, _ = await authorities.get_destination(session, destination_id)
    if destination.encryption_kid == kid:
        return destination.encryption_key
    if destination.signing_key is not None and destination.signing_key["kid"] == kid:
        return destination.signing_key
    raise KeyNotFound(f"Destination {destination_id} has no key {kid!r}.")


@admin_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an authority with its Zustellkanal",
    responses=problem_responses(*WRITE_ERRORS),
)
async def create_authority(
    session: SessionDep, zufi: StateDep, _admin: AdminDep, body: AuthorityIn
) -> AuthorityOut:
    authority, destination = await authorities.put_authority(session, zufi, uuid.uuid4(), body)
    return authorities.authority_out(authority, destination)


@admin_router.put(
    "/{authority_id}",
    summary="Create or replace an authority with its Zustellkanal",
    description="With `If-Match` (the `ETag` of a GET), only if nobody has changed it since: "
    "a read-modify-write (a key rotation, say) then cannot undo a change made in between.",
    responses=problem_responses(*WRITE_ERRORS, AuthorityChanged),
)
async def put_authority(
    session: SessionDep,
    zufi: StateDep,
    _admin: AdminDep,
    authority_id: uuid.UUID,
    body: AuthorityIn,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> AuthorityOut:
    if if_match is not None:
        await authorities.require_unchanged(session, authority_id, if_match)
    authority, destination = await authorities.put_authority(session, zufi, authority_id, body)
    answer = authorities.authority_out(authority, destination)
    response.headers["ETag"] = authorities.entity_tag(answer)
    return answer


@admin_router.get(
    "/{authority_id}",
    summary="An authority with its Zustellkanal; its `ETag` serves a later PUT's `If-Match`",
    responses=problem_responses(Unauthorized, Forbidden, AuthorityNotFound),
)
async def get_authority(
    session: SessionDep, _admin: AdminDep, authority_id: uuid.UUID, response: Response
) -> AuthorityOut:
    answer = authorities.authority_out(*await authorities.get_authority(session, authority_id))
    response.headers["ETag"] = authorities.entity_tag(answer)
    return answer


@admin_router.delete(
    "/{authority_id}",
    summary="Deactivate an authority's destination (routing stops)",
    responses=problem_responses(Unauthorized, Forbidden, AuthorityNotFound),
)
async def deactivate_authority(
    session: SessionDep, zufi: StateDep, _admin: AdminDep, authority_id: uuid.UUID
) -> AuthorityOut:
    return authorities.authority_out(*await authorities.deactivate_authority(session, zufi, authority_id))

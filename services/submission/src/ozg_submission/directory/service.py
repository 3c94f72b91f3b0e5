"""Answering FIT-Connect's destination questions from the read model."""

from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ozg_common.jose import KEY_ALGORITHM
from ozg_common.security_events import SET_ALGORITHM
from ozg_common.xoev import ANTRAG_NAMESPACE
from ozg_submission.directory import repository
from ozg_submission.directory.schemas import DestinationService, DestinationView, SubmissionSchema
from ozg_submission.errors import DestinationNotFound, DestinationStateInvalid, KeyNotFound, ServiceNotOffered
from ozg_submission.models import Destination, Leistung

LEIKA_URN = "urn:de:fim:leika:leistung:"
PUBLIC_RSA_MEMBERS = ("kty", "kid", "n", "e", "x5c", "x5t", "x5t#S256")


def leika_identifier(leika_key: str) -> str:
    return LEIKA_URN + leika_key


def leika_key_of(identifier: str) -> str:
    """`urn:de:fim:leika:leistung:99…` or the bare key → the bare key."""
    return identifier.removeprefix(LEIKA_URN)


async def find_destination(session: AsyncSession, destination_id: str) -> Destination:
    return existing_destination(await repository.get_destination(session, destination_id), destination_id)


class _Destination(Protocol):
    """A destination as read: an ORM object or a plain row."""

    @property
    def status(self) -> str: ...


AnyDestination = TypeVar("AnyDestination", bound=_Destination)


def existing_destination(destination: AnyDestination | None, destination_id: str) -> AnyDestination:
    """The destination looked up for `destination_id`, unless there is none or it was deleted."""
    require_existing(destination.status if destination else None, destination_id)
    assert destination is not None
    return destination


def require_existing(status: str | None, destination_id: str) -> None:
    """`status`: that of the destination looked up for `destination_id`, None if there is none."""
    if status is None or status == "deleted":
        raise DestinationNotFound(f"No destination {destination_id}.")


def usable_destination(destination: repository.Recipient, leika_key: str) -> None:
    """A destination takes new submissions only while active, and only for a service it offers."""
    if destination.status != "active":
        raise DestinationStateInvalid(f"Destination {destination.destination_id} is {destination.status}.")
    if leika_key not in destination.services:
        raise ServiceNotOffered(
            f"Destination {destination.destination_id} does not offer service {leika_key}."
        )


def _schemas(service: Leistung | None) -> list[SubmissionSchema]:
    namespace = (service.xml_schema_namespace if service else None) or ANTRAG_NAMESPACE
    schemas = [SubmissionSchema(schema_uri=namespace, mime_type="application/xml")]
    if service is not None and service.form_schema:
        uri = str(service.form_schema.get("$id") or f"urn:ozg-router:form:{service.leika_key}")
        schemas.append(SubmissionSchema(schema_uri=uri, mime_type="application/json"))
    return schemas


async def describe(session: AsyncSession, destination_id: str) -> DestinationView:
    destination = await find_destination(session, destination_id)
    services = {s.leika_key: s for s in await repository.services_named(session, destination.services)}
    return DestinationView(
        destination_id=destination.destination_id,
        status=destination.status,
        encryption_kid=destination.encryption_kid,
        services=[
            DestinationService(
                identifier=leika_identifier(key), submission_schemas=_schemas(services.get(key))
            )
            for key in destination.services
        ],
        metadata_versions=destination.metadata_versions,
        reply_channels={channel: {} for channel in destination.reply_channels},
    )


def public_encryption_key(destination: Destination) -> dict[str, Any]:
    """The destination's JWK as FIT-Connect publishes it: public members only, for wrapping keys."""
    jwk = {name: value for name, value in destination.encryption_key.items() if name in PUBLIC_RSA_MEMBERS}
    return jwk | {"kid": destination.encryption_kid, "alg": KEY_ALGORITHM, "key_ops": ["wrapKey"]}


def public_signing_key(destination: Destination) -> dict[str, Any] | None:
    """The key the destination's SETs are verified with, as FIT-Connect publishes it: PS512, verify."""
    if destination.signing_key is None:
        return None
    jwk = {name: value for name, value in destination.signing_key.items() if name in PUBLIC_RSA_MEMBERS}
    return jwk | {"alg": SET_ALGORITHM, "use": "sig", "key_ops": ["verify"]}


async def find_key(session: AsyncSession, destination_id: str, kid: str) -> dict[str, Any]:
    """Either of the destination's public keys by its kid: encryption (wrapKey) or signature (verify)."""
    destination = await find_destination(session, destination_id)
    if kid == destination.encryption_kid:
        return public_encryption_key(destination)
    signing = public_signing_key(destination)
    if signing is not None and signing.get("kid") == kid:
        return signing
    raise KeyNotFound(f"Destination {destination_id} has no key {kid}.")

"""Route resolution: for a service and a place, every responsible destination, each naming its area."""

from dataclasses import dataclass

from ozg_zufi import identifiers
from ozg_zufi.errors import AreaNotFound, InvalidAreaQuery, ServiceNotFound
from ozg_zufi.routing.index import AreaNode, Resolution, RoutingIndex, ServiceEntry
from ozg_zufi.routing.schemas import Route, RoutesPage
from ozg_zufi.routing.signatures import RouteSigner, SignedRoute
from ozg_zufi.schemas import AreaRef


@dataclass(frozen=True)
class Place:
    """Where the citizen is: the Gemeinden it covers and, unless a postal code, the area named."""

    gemeinden: list[str]
    area: AreaNode | None


def find_service(index: RoutingIndex, raw_key: str) -> ServiceEntry:
    key = identifiers.leika_key(raw_key)
    service = index.services.get(key)
    if service is None or not service.active:
        raise ServiceNotFound(f"No service with LeiKa key {key} is offered.")
    return service


def find_place(
    index: RoutingIndex,
    *,
    ars: str | None = None,
    ags: str | None = None,
    postal_code: str | None = None,
    area_id: str | None = None,
) -> Place:
    """The place named by exactly one of the area parameters."""
    given = [value for value in (ars, ags, postal_code, area_id) if value is not None]
    if len(given) != 1:
        raise InvalidAreaQuery("Give exactly one of ars, ags, postalCode or areaId.")
    if postal_code is not None:
        code = identifiers.postal_code(postal_code)
        gemeinden = index.postal_codes.get(code)
        if not gemeinden:
            raise AreaNotFound(f"No Gemeinde has the postal code {code}.")
        return Place(list(gemeinden), None)
    if ags is not None:
        key = index.ars_by_ags.get(identifiers.ags(ags))
        if key is None:
            raise AreaNotFound(f"No Gemeinde has the AGS {ags}.")
    else:
        key = identifiers.ars(ars if ars is not None else str(area_id))
    area = index.areas.get(key)
    if area is None:
        raise AreaNotFound(f"No area has the ARS {key}.")
    return Place(index.gemeinden_of(key), area)


def candidate_routes(
    index: RoutingIndex, service: ServiceEntry, place: Place
) -> list[tuple[Resolution, str]]:
    """One (resolution, named area) per distinct destination and responsible area, in ARS order.

    The named area is the one the route was resolved for: the area asked for when the route serves all
    of it, else the single Gemeinde it serves, else the area the authority is responsible for.
    """
    groups: dict[tuple[str, str], tuple[Resolution, list[str]]] = {}
    for gemeinde in place.gemeinden:
        resolution = index.resolve(service, gemeinde)
        if resolution is None:
            continue
        key = (str(resolution.destination.id), resolution.responsible_ars)
        groups.setdefault(key, (resolution, []))[1].append(gemeinde)
    candidates = []
    for resolution, members in groups.values():
        if place.area is not None and len(members) == len(place.gemeinden):
            named = place.area.ars
        elif len(members) == 1:
            named = members[0]
        else:
            named = resolution.responsible_ars
        candidates.append((resolution, named))
    return candidates


async def find_routes(
    index: RoutingIndex,
    signer: RouteSigner,
    service: ServiceEntry,
    place: Place,
    *,
    offset: int,
    limit: int,
) -> RoutesPage:
    candidates = candidate_routes(index, service, place)
    page = candidates[offset : offset + limit]
    bindings = [
        SignedRoute(str(resolution.destination.id), service.leika_key, named, index.areas[named].name)
        for resolution, named in page
    ]
    signatures = await signer.signatures(bindings)
    routes = []
    for (resolution, named), signature in zip(page, signatures, strict=True):
        authority, area = resolution.authority, index.areas[named]
        routes.append(
            Route(
                destination_id=str(resolution.destination.id),
                destination_signature=signature,
                destination_name=authority.name,
                destination_short_name=authority.short_name,
                authority_id=str(authority.id),
                area=AreaRef(id=area.ars, name=area.name, type=area.type),
                contact_persons=authority.contacts,
                address=authority.address or None,
            )
        )
    return RoutesPage(count=len(routes), offset=offset, total_count=len(candidates), routes=routes)
